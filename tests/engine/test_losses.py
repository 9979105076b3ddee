"""Gram matrices, the three losses, and the Objective that combines them."""

import numpy as np
import pytest
import tensorflow as tf

import nstlab
from nstlab.engine import losses


def numpy_gram(features):
    batch, height, width, channels = features.shape
    flat = features.reshape(batch, height * width, channels)
    return np.einsum("bpc,bpd->bcd", flat, flat) / (height * width)


def test_gram_matrix_matches_numpy():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(2, 5, 7, 4)).astype(np.float32)
    np.testing.assert_allclose(nstlab.gram_matrix(features), numpy_gram(features), rtol=1e-5)
    single = nstlab.gram_matrix(features[0])
    assert single.shape == (4, 4)
    np.testing.assert_allclose(single, numpy_gram(features)[0], rtol=1e-5)
    np.testing.assert_allclose(single, tf.transpose(single), rtol=1e-6)


def test_gram_matrix_ignores_where_features_are():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(1, 6, 6, 3)).astype(np.float32)
    shuffled = features.reshape(36, 3)[rng.permutation(36)].reshape(1, 6, 6, 3)
    np.testing.assert_allclose(nstlab.gram_matrix(shuffled), nstlab.gram_matrix(features),
                               rtol=1e-5)


def test_losses_are_zero_at_their_target_and_positive_off_it():
    rng = np.random.default_rng(3)
    features = tf.constant(rng.normal(size=(1, 4, 4, 8)), tf.float32)
    other = features + 0.1
    assert float(nstlab.content_loss(features, features)) == 0.0
    assert float(nstlab.content_loss(other, features)) == pytest.approx(0.01, rel=1e-4)
    target = nstlab.gram_matrix(features)
    assert float(nstlab.style_loss(features, target)) == pytest.approx(0.0, abs=1e-10)
    assert float(nstlab.style_loss(other, target)) > 0
    flat = tf.fill((1, 8, 8, 3), 0.3)
    assert float(nstlab.total_variation_loss(flat)) == 0.0
    stripes = tf.constant(np.tile([0.0, 1.0], (1, 8, 4))[..., None].repeat(3, -1), tf.float32)
    # 8 rows x 7 horizontal steps of 1.0 in each of 3 channels.
    assert float(nstlab.total_variation_loss(stripes)) == pytest.approx(8 * 7 * 3)


def numpy_total_variation(image, power):
    """The sum of |neighbour difference| ** power, down and across, over every channel."""
    image = np.asarray(image, np.float64)
    down, across = np.diff(image, axis=-3), np.diff(image, axis=-2)
    return (np.abs(down) ** power).sum() + (np.abs(across) ** power).sum()


@pytest.mark.parametrize("power", [1.0, 1.5, 2.0])
def test_total_variation_sums_powers_of_neighbour_differences(power, photo_64):
    for image in (photo_64, photo_64[None]):  # one image or a batch
        assert float(nstlab.total_variation_loss(image, power)) == pytest.approx(
            numpy_total_variation(image, power), rel=1e-4)


def test_squared_total_variation_spares_faint_grain_and_charges_edges():
    """Power 2 costs a sharp edge more than a ramp of the same height; power 1 does not."""
    edge = np.zeros((1, 8, 8, 1), np.float32)
    edge[:, :, 4:] = 1.0
    ramp = np.tile(np.linspace(0.0, 1.0, 8, dtype=np.float32), (1, 8, 1))[..., None]
    absolute, squared = ({name: float(nstlab.total_variation_loss(image, power))
                          for name, image in (("edge", edge), ("ramp", ramp))}
                         for power in (1, 2))
    assert absolute["edge"] == pytest.approx(absolute["ramp"])
    assert squared["edge"] == pytest.approx(7 * squared["ramp"])


def test_squared_total_variation_has_a_finite_gradient_on_flat_regions():
    flat = tf.Variable(tf.fill((1, 8, 8, 3), 0.5))
    with tf.GradientTape() as tape:
        loss = nstlab.total_variation_loss(flat, 1.5)
    gradient = tape.gradient(loss, flat)
    assert float(loss) == 0.0 and bool(tf.reduce_all(gradient == 0.0))


def test_tv_power_sets_the_objectives_tv_part(photo_64, starry_64):
    image = nstlab.resize_image(starry_64, photo_64.shape[:2])
    extractor = losses.Objective(photo_64, starry_64).extractor
    for power in (1, 2):
        objective = losses.Objective(photo_64, starry_64, tv_weight=2.0, tv_power=power,
                                     extractor=extractor)
        assert objective.evaluate(image)["tv"] == pytest.approx(
            2.0 * numpy_total_variation(image, power), rel=1e-4)
    with pytest.raises(ValueError, match=r"tv_power must be .*>= ?1, got 0.5"):
        losses.Objective(photo_64, starry_64, tv_power=0.5)


def test_layer_weights_are_normalised():
    assert losses.layer_weights(["a", "b"]) == {"a": 0.5, "b": 0.5}
    assert losses.layer_weights(["a", "b"], [3, 1]) == {"a": 0.75, "b": 0.25}
    assert losses.layer_weights(["a", "b"], {"a": 1, "b": 0}) == {"a": 1.0, "b": 0.0}
    with pytest.raises(ValueError, match="2 layer weights for 3 layers"):
        losses.layer_weights(["a", "b", "c"], [1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        losses.layer_weights(["a"], [-1])


@pytest.fixture(scope="module")
def objective(photo_64, starry_64):
    return nstlab.Objective(photo_64, starry_64)


def test_objective_parts_add_up_and_are_named_by_layer(objective, photo_64):
    total, parts = objective(photo_64[None])
    assert list(parts) == objective.part_names
    assert list(parts) == ["content/block4_conv2"] + [
        f"style/{name}" for name in losses.DEFAULT_STYLE_LAYERS] + ["tv"]
    np.testing.assert_allclose(float(total), sum(float(v) for v in parts.values()), rtol=1e-5)
    # At the content image the content loss is zero and the style loss is not.
    assert float(parts["content/block4_conv2"]) == 0.0
    assert all(float(parts[f"style/{name}"]) > 0 for name in objective.style_layers)


def test_objective_gradient_is_finite_and_nonzero(objective, photo_64):
    image = tf.Variable(photo_64[None])
    with tf.GradientTape() as tape:
        total, _ = objective(image)
    gradient = tape.gradient(total, image).numpy()
    assert gradient.shape == image.shape
    assert np.all(np.isfinite(gradient)) and np.abs(gradient).max() > 0


def test_weights_scale_their_parts(photo_64, starry_64):
    base = nstlab.Objective(photo_64, starry_64, style_weight=1.0).evaluate(photo_64[::-1])
    doubled = nstlab.Objective(photo_64, starry_64, style_weight=2.0, tv_weight=0.0)
    scaled = doubled.evaluate(photo_64[::-1])
    assert scaled["style/block3_conv1"] == pytest.approx(2 * base["style/block3_conv1"], rel=1e-4)
    assert scaled["content/block4_conv2"] == pytest.approx(base["content/block4_conv2"], rel=1e-4)
    assert scaled["tv"] == 0.0


def test_content_only_and_style_only_objectives(photo_64, starry_64):
    content_only = nstlab.Objective(photo_64, None, content_layers=["block2_conv2"])
    assert content_only.part_names == ["content/block2_conv2", "tv"]
    style_only = nstlab.Objective(None, starry_64, style_layers=["block1_conv1"])
    assert style_only.part_names == ["style/block1_conv1", "tv"]
    assert style_only.extractor.deepest == "block1_conv1"


def test_luminance_loss_compares_the_coarse_light_and_dark(photo_64):
    photo = photo_64[np.newaxis, :, :52]  # 64 x 52: 16 x 13 blocks
    luma = photo @ np.array([0.299, 0.587, 0.114], np.float32)
    blocks = luma.reshape(1, 16, 4, 13, 4).mean(axis=(2, 4))[..., np.newaxis]
    np.testing.assert_allclose(losses.coarse_luminance(photo), blocks, atol=1e-6)
    darker = photo * 0.5
    expected = np.mean((blocks * 0.5 - blocks) ** 2)
    target = losses.coarse_luminance(photo)
    assert float(losses.luminance_loss(darker, target)) == pytest.approx(expected, rel=1e-5)
    assert float(losses.luminance_loss(photo, target)) == 0.0
    strokes = photo + np.tile([[0.05, -0.05], [-0.05, 0.05]], (32, 26))[..., np.newaxis]
    assert float(losses.luminance_loss(strokes, target)) < 1e-10  # finer than a block: free


def test_the_objective_adds_a_luminance_part_only_when_weighted(photo_64):
    layers = {"content_layers": ["block2_conv2"]}
    plain = nstlab.Objective(photo_64, None, **layers)
    weighted = nstlab.Objective(photo_64, None, luminance_weight=1e3, **layers)
    assert "luminance" not in plain.part_names
    assert weighted.part_names == ["content/block2_conv2", "tv", "luminance"]
    parts = weighted.evaluate(photo_64 * 0.5)
    target = losses.coarse_luminance(photo_64[np.newaxis])
    assert parts["luminance"] == pytest.approx(
        1e3 * float(losses.luminance_loss(photo_64[np.newaxis] * 0.5, target)), rel=1e-5)
    batched = nstlab.Objective(None, None, batch_content=True, luminance_weight=1e3, **layers)
    _, batch_parts = batched(photo_64[np.newaxis] * 0.5, content=photo_64[np.newaxis])
    assert float(batch_parts["luminance"]) == pytest.approx(parts["luminance"], rel=1e-5)
    history = nstlab.History(["block2_conv2"])
    history.append({"content/block2_conv2": 1.0, "tv": 0.0, "luminance": 2.0}, 3.0, 0.1)
    history.append({"content/block2_conv2": 1.0, "tv": 0.0}, 1.0, 0.2)
    restored = nstlab.History.from_dict(history.to_dict())
    np.testing.assert_array_equal(restored.luminance, [2.0, 0.0])
    assert "luminance" in restored.parts()
    assert "luminance" not in nstlab.History(["block2_conv2"]).to_dict()


def test_style_blend_weights_mix_gram_targets(photo_64, starry_64):
    layers = ["block1_conv1"]
    plain = nstlab.Objective(None, starry_64, style_layers=layers)
    flipped = starry_64[:, ::-1] * 0.5
    first_only = nstlab.Objective(None, [starry_64, flipped], style_layers=layers,
                                  style_blend_weights=[1, 0])
    half = nstlab.Objective(None, [starry_64, flipped], style_layers=layers,
                            style_blend_weights=[0.5, 0.5])
    np.testing.assert_allclose(first_only.style_targets["block1_conv1"],
                               plain.style_targets["block1_conv1"], rtol=1e-6)
    assert not np.allclose(half.style_targets["block1_conv1"], plain.style_targets["block1_conv1"])


def test_bad_weights_are_refused(photo_64, starry_64):
    with pytest.raises(ValueError, match="style_weight must be a number >= 0"):
        nstlab.Objective(photo_64, starry_64, style_weight=float("nan"))
    with pytest.raises(ValueError, match="unknown layer 'block9_conv1'"):
        nstlab.Objective(photo_64, starry_64, style_layers=["block9_conv1"])
