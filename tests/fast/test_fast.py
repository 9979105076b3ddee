"""nstlab.fast: the network, the photo crops, train_fast, model files and FastStylizer.

Tiny everything (32-48 px crops, width 4, one residual block), so each training run takes
a few seconds on 2 cores.
"""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from nstlab.engine.losses import Objective
from nstlab.engine.optimize import STOP_INTERRUPTED, STOP_NON_FINITE
from nstlab.fast import FastStylizer, ModelFileError, PhotoError, modelfile, train_fast
from nstlab.fast.network import InstanceNormalization, build_transformer, residual_block
from nstlab.fast.photos import find_photos, photo_batches, sample_photos
from nstlab.fast.recipe import SHIPPED_MODELS
from nstlab.fast.training import PREVIEW_SIZE
from nstlab.imaging.data import PAINTINGS
from nstlab.imaging.images import load_image

TINY = {"size": 32, "batch_size": 2, "width": 4, "residual_blocks": 1, "style_size": 64}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, photo_folder, starry_path):
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    result = train_fast(starry_path, photo_folder, steps=12, checkpoint=path, progress=False,
                        learning_rate=1e-2, **TINY)
    return result, path


# --------------------------------------------------------------------------- the network


@pytest.mark.parametrize(("height", "width"), [(33, 47), (8, 8), (64, 31)])
def test_network_keeps_any_size_and_stays_in_unit_range(height, width):
    network = build_transformer(width=4, residual_blocks=2)
    photos = np.random.default_rng(0).random((2, height, width, 3), dtype=np.float32)
    pictures = np.asarray(network(photos))
    assert pictures.shape == (2, height, width, 3)
    assert pictures.min() >= 0.0 and pictures.max() <= 1.0


def test_instance_norm_normalises_each_image_on_its_own():
    layer = InstanceNormalization()
    rng = np.random.default_rng(1)
    batch = np.concatenate([rng.normal(5, 3, (1, 6, 7, 2)), rng.normal(-2, 0.1, (1, 6, 7, 2))])
    out = np.asarray(layer(batch.astype(np.float32)))
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2)), 1, atol=1e-2)
    # The same image normalised alone gives the same result: the batch does not matter.
    np.testing.assert_allclose(np.asarray(layer(batch[:1].astype(np.float32))), out[:1],
                               atol=1e-5)


def test_residual_block_adds_to_its_input():
    inputs = keras.Input((None, None, 8))
    block = keras.Model(inputs, residual_block(inputs, 8, name="r"))
    x = np.random.default_rng(2).random((1, 9, 11, 8), dtype=np.float32)
    assert block(x).shape == x.shape
    # With the second normalisation's scale and offset at zero the block is the identity.
    block.get_layer("r_b_norm").set_weights([np.zeros(8), np.zeros(8)])
    np.testing.assert_allclose(np.asarray(block(x)), x, atol=1e-6)


# --------------------------------------------------------------------------- the photos


def test_photo_batches_are_square_crops(photo_folder):
    batch = next(iter(photo_batches(photo_folder, 32, 3, seed=0)))
    assert batch.shape == (3, 32, 32, 3)
    again = next(iter(photo_batches(photo_folder, 32, 3, seed=0)))
    np.testing.assert_array_equal(batch, again)
    later = next(iter(photo_batches(photo_folder, 32, 3, seed=0, start=5)))
    assert not np.array_equal(batch, later)


def test_sample_photos_are_on_this_machine():
    photos = sample_photos()
    assert photos[0].name == "grace_hopper.jpg"
    assert all(path.is_file() for path in photos)


def test_bad_photo_folders_are_one_line_errors(tmp_path):
    with pytest.raises(PhotoError, match="does not exist"):
        find_photos(tmp_path / "missing")
    with pytest.raises(PhotoError, match="is empty"):
        find_photos(tmp_path)
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 nothing")
    with pytest.raises(PhotoError, match="no image that can be read") as caught:
        find_photos(tmp_path)
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------- the loss


def test_batched_content_matches_one_objective_per_photo(photo_64, starry_64):
    photos = np.stack([photo_64[:48, :48], photo_64[10:58, 4:52]])
    pictures = np.clip(photos * 0.8 + 0.1, 0, 1)
    batched = Objective(None, starry_64, batch_content=True)
    total, parts = batched(pictures, content=photos)
    singles = [Objective(photo, starry_64, extractor=batched.extractor)(picture[None])[0]
               for photo, picture in zip(photos, pictures, strict=True)]
    np.testing.assert_allclose(float(total), np.mean([float(s) for s in singles]), rtol=1e-4)
    assert set(parts) == set(batched.part_names)


# --------------------------------------------------------------------------- training


def test_training_lowers_the_loss_and_records_every_layer(trained):
    result, path = trained
    history = result.history
    assert len(history) == 12
    assert history.total[-3:].mean() < history.total[:3].mean()
    assert set(history.style) == {"block1_conv1", "block2_conv1", "block3_conv1",
                                  "block4_conv1", "block5_conv1"}
    assert set(history.content) == {"block2_conv2"}  # Johnson et al.'s, the recipe's default
    assert tuple(result.record["recipe"]["content_layers"]) == ("block2_conv2",)
    assert result.record["steps"] == 12 and path.is_file()


def test_resume_goes_on_from_the_saved_steps(trained, photo_folder, starry_path, tmp_path):
    _, path = trained
    result = train_fast(starry_path, photo_folder, steps=3, resume=path,
                        checkpoint=tmp_path / "more.keras", progress=False)
    assert result.record["steps"] == 15
    assert len(result.history) == 15
    with pytest.raises(ModelFileError, match="width 8 differs from the recipe of"):
        train_fast(starry_path, photo_folder, steps=1, resume=path, width=8, progress=False)
    with pytest.raises(ModelFileError, match="content_layers block4_conv2 differs"):
        train_fast(starry_path, photo_folder, steps=1, resume=path, progress=False,
                   content_layers="block4_conv2")


def test_a_recipe_recorded_before_its_content_layers_were_is_read_as_trained():
    from nstlab.fast.recipe import UNRECORDED_CONTENT_LAYERS, Recipe

    old = {name: value for name, value in Recipe().to_dict().items()
           if name != "content_layers"}
    assert Recipe.from_dict(old).content_layers == UNRECORDED_CONTENT_LAYERS
    assert Recipe.from_dict(Recipe().to_dict()) == Recipe()
    assert Recipe(content_layers=["block3_conv1"]).checked().content_layers == ("block3_conv1",)
    # --resume compares checked values: the same layers as a name or a tuple, not width 8.
    assert Recipe().differing({"content_layers": "block2_conv2", "width": 8}) == ["width"]


def test_ctrl_c_keeps_the_weights_of_the_last_step(photo_folder, starry_path, tmp_path):
    pictures = []

    def interrupt(info):
        pictures.append(info.image)  # the network's picture of the first photo, now
        if info.step == 3:
            raise KeyboardInterrupt

    path = tmp_path / "cut.keras"
    result = train_fast(starry_path, photo_folder, steps=10, callbacks=[interrupt],
                        checkpoint=path, progress=False, **TINY)
    assert result.stop_reason == STOP_INTERRUPTED
    assert result.record["steps"] == 3 and len(result.history) == 3
    first_photo = find_photos(photo_folder)[0]
    kept = FastStylizer.load(path)(load_image(first_photo, max_size=PREVIEW_SIZE))
    np.testing.assert_allclose(kept, pictures[-1], atol=1e-5)
    assert not np.allclose(pictures[0], pictures[-1], atol=1e-4)


def test_a_nan_loss_keeps_the_last_good_weights(photo_folder, starry_path):
    # An absurd step size blows the weights up after one step: the next loss is not finite.
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        result = train_fast(starry_path, photo_folder, steps=10, learning_rate=1e30,
                            progress=False, **TINY)
    assert result.stop_reason == STOP_NON_FINITE
    assert all(np.isfinite(w).all() for w in result.model.get_weights())
    picture = result.stylizer(np.full((16, 16, 3), 0.5, np.float32))
    assert np.isfinite(picture).all()


# --------------------------------------------------------------------------- model files


def test_stylizer_round_trip_at_any_size(trained, photo_64):
    result, path = trained
    stylizer = FastStylizer.load(path)
    picture = stylizer(photo_64[:45, :37])
    assert picture.shape == (45, 37, 3) and picture.dtype == np.float32
    np.testing.assert_allclose(picture, result.stylizer(photo_64[:45, :37]), atol=1e-5)
    assert stylizer.backbone == "vgg16"


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_each_shipped_model_stylizes_a_small_photo_in_each_of_its_styles(name, photo_64):
    stylizer = FastStylizer.load(name)
    # A file without a "styles" list paints its one "style" (the painting's short name).
    assert set(stylizer.styles) <= set(PAINTINGS) and (len(stylizer.styles) > 1
                                                       or stylizer.styles == [name])
    for style in stylizer.styles:
        picture = stylizer(photo_64, style=style)
        assert picture.shape == photo_64.shape
        assert 0.0 <= picture.min() and picture.max() <= 1.0
        assert np.abs(picture - photo_64).mean() > 0.05  # it painted something


def rewrite_record(source, target, change):
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == modelfile.RECORD_NAME:
                record = json.loads(data)
                change(record)
                data = json.dumps(record)
            new.writestr(item, data)


def test_bad_model_files_are_one_line_errors(trained, tmp_path):
    _, path = trained
    damaged = tmp_path / "damaged.keras"
    damaged.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    plain = tmp_path / "plain.keras"
    build_transformer(width=2, residual_blocks=0).save(plain)
    other = tmp_path / "other.keras"
    rewrite_record(path, other, lambda record: record["recipe"].update(backbone="vgg19"))
    cases = [(damaged, "damaged"), (plain, "not a nstlab fast-style model"),
             (tmp_path / "missing.keras", "not found"), (tmp_path, "is a folder")]
    for bad, message in cases:
        with pytest.raises(ModelFileError, match=message) as caught:
            FastStylizer.load(bad)
        assert "\n" not in str(caught.value)
    with pytest.raises(ModelFileError, match="trained with the vgg19 loss network"):
        FastStylizer.load(other, backbone="vgg16")


def test_keras_alone_can_open_a_model_file(trained):
    _, path = trained
    model = keras.saving.load_model(path, compile=False)
    assert model(tf.zeros((1, 16, 16, 3))).shape == (1, 16, 16, 3)
