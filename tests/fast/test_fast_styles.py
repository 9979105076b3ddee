"""Several styles in one network: conditional instance norm, training in turn, choosing and
mixing styles (nstlab.fast.network, training, controls, stylizer, command)."""

import numpy as np
import pytest

from nstlab.base.validators import OptionError
from nstlab.cli import main
from nstlab.fast import FastStylizer, ModelFileError, train_fast
from nstlab.fast.controls import style_weights
from nstlab.fast.network import ConditionalInstanceNormalization, build_transformer, style_count
from nstlab.fast.recipe import Recipe
from nstlab.imaging.data import painting_path

TINY = {"size": 32, "batch_size": 1, "width": 4, "residual_blocks": 1, "style_size": 32}
NAMES = ["starry_night", "shipwreck"]


@pytest.fixture(scope="module")
def paintings():
    return [painting_path(name) for name in NAMES]


@pytest.fixture(scope="module")
def two_styles(tmp_path_factory, paintings, photo_folder):
    path = tmp_path_factory.mktemp("styles") / "two.keras"
    result = train_fast(paintings, photo_folder, steps=4, checkpoint=path, progress=False,
                        precision="float32", **TINY)
    return result, path


def test_each_style_has_its_own_scale_and_offset_and_a_mix_mixes_them():
    layer = ConditionalInstanceNormalization(2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6, 5, 4)).astype(np.float32)
    layer([x, np.eye(2, dtype=np.float32)[[0, 1, 0]]])
    layer.scale.assign([[1, 1, 1, 1], [2, 3, 4, 5]])
    layer.offset.assign([[0, 0, 0, 0], [1, -1, 1, -1]])
    weights = np.array([[1, 0], [0, 1], [0.5, 0.5]], np.float32)
    y = np.asarray(layer([x, weights]))
    mean, std = x.mean(axis=(1, 2), keepdims=True), x.std(axis=(1, 2), keepdims=True)
    normal = (x - mean) / np.sqrt(std ** 2 + 1e-5)
    np.testing.assert_allclose(y[0], normal[0], atol=1e-4)
    np.testing.assert_allclose(y[1], normal[1] * [2, 3, 4, 5] + [1, -1, 1, -1], atol=1e-4)
    np.testing.assert_allclose(y[2], normal[2] * [1.5, 2, 2.5, 3] + [0.5, -0.5, 0.5, -0.5],
                               atol=1e-4)


def test_the_styles_share_every_convolution():
    one, three = build_transformer(4, 1), build_transformer(4, 1, styles=3)
    assert (style_count(one), style_count(three)) == (1, 3)
    norms = [layer for layer in three.layers
             if isinstance(layer, ConditionalInstanceNormalization)]
    per_style = sum(int(np.prod(w.shape[1:])) for layer in norms for w in layer.weights)
    assert three.count_params() - one.count_params() == 2 * per_style


def test_training_takes_the_styles_in_turn_and_records_them(two_styles):
    result, path = two_styles
    assert result.record["styles"] == ["starry_night.jpg", "shipwreck.jpg"]
    assert result.stop_reason == "completed" and len(result.history) == 4
    stylizer = FastStylizer.load(path)
    assert stylizer.styles == NAMES
    photo = np.random.default_rng(1).random((40, 36, 3), dtype=np.float32)
    first, second = stylizer(photo), stylizer(photo, style="shipwreck")
    np.testing.assert_array_equal(first, stylizer(photo, style=0))
    assert np.abs(first - second).max() > 1e-3  # each style trained its own norms
    mixed = stylizer(photo, style={"starry_night": 1, "shipwreck": 1})
    np.testing.assert_allclose(mixed, stylizer(photo, style="starry_night=0.5,shipwreck=0.5"),
                               atol=1e-6)
    assert "styles=['starry_night', 'shipwreck']" in repr(stylizer)


def test_a_resume_needs_the_same_number_of_paintings(two_styles, paintings, photo_folder):
    _, path = two_styles
    with pytest.raises(ModelFileError, match="paints 2 style"):
        train_fast(paintings[0], photo_folder, steps=1, resume=path, progress=False)
    resumed = train_fast(paintings, photo_folder, steps=1, resume=path, progress=False,
                         precision="float32")
    assert resumed.record["steps"] == 5



def test_each_painting_may_have_its_own_loss_weights():
    weights = Recipe(content_weight=[2e4, 2.5e4], style_weight=50).loss_weights(2)
    assert weights == [{"content_weight": 2e4, "style_weight": 50.0, "luminance_weight": 0.0},
                       {"content_weight": 2.5e4, "style_weight": 50.0, "luminance_weight": 0.0}]
    assert Recipe(content_weight=[3]).checked().content_weight == 3.0  # one is that number
    with pytest.raises(OptionError, match="--content-weight got 3 weights for 2 painting"):
        Recipe(content_weight=(1, 2, 3)).loss_weights(2, flags=True)
    with pytest.raises(OptionError, match="style_weight must be a number >= 0"):
        Recipe(style_weight=(1, -2)).checked()
    saved = Recipe(content_weight=(1, 2)).checked()
    assert saved.differing({"content_weight": [1, 2]}) == []
    assert saved.differing({"content_weight": [1, 3]}) == ["content_weight"]


def test_each_style_trains_with_its_own_content_weight(paintings, photo_folder, tmp_path):
    path = tmp_path / "weights.keras"
    result = train_fast(paintings, photo_folder, steps=4, checkpoint=path, progress=False,
                        precision="float32", content_weight=(0, 1e4), **TINY)
    content = np.asarray(result.history.content["block2_conv2"])
    assert np.all(content[0::2] == 0) and np.all(content[1::2] > 0)  # the styles in turn
    assert FastStylizer.load(path).record["recipe"]["content_weight"] == [0, 1e4]
    resumed = train_fast(paintings, photo_folder, steps=1, resume=path, progress=False,
                         precision="float32", content_weight=[0, 1e4])
    assert resumed.record["steps"] == 5
    with pytest.raises(OptionError, match="content_weight got 2 weights for 3 painting"):
        train_fast([*paintings, paintings[0]], photo_folder, steps=1, progress=False,
                   content_weight=(0, 1e4), **TINY)


def weights_by_layer(model) -> dict:
    return {layer.name: [np.array(w) for w in layer.get_weights()] for layer in model.layers
            if layer.weights}


def test_a_style_added_to_a_network_learns_alone(two_styles, paintings, photo_folder,
                                                 tmp_path):
    _, base_path = two_styles
    base = FastStylizer.load(base_path)
    matisse = painting_path("woman_with_hat")
    path = tmp_path / "three.keras"
    result = train_fast(matisse, photo_folder, steps=3, add_to=base_path, checkpoint=path,
                        progress=False, precision="float32", content_weight=5e3)
    assert result.record["added_to"] == {"model": "two.keras", "styles": 2, "steps": 4,
                                         "seconds": base.record["seconds"],
                                         "precisions": ["float32"]}
    assert tuple(result.record["recipe"]["content_weight"]) == (1e4, 1e4, 5e3)
    stylizer = FastStylizer.load(path)
    assert stylizer.styles == [*NAMES, "woman_with_hat"] and len(result.history) == 3
    before, after = weights_by_layer(base.model), weights_by_layer(stylizer.model)
    for name, weights in before.items():
        if name.endswith("_norm"):  # the two styles' rows are kept, the third one learnt
            for old, new in zip(weights, after[name], strict=True):
                np.testing.assert_array_equal(new[:2], old)
                assert np.abs(new[2] - old.mean(axis=0)).max() > 0
        else:
            for old, new in zip(weights, after[name], strict=True):
                np.testing.assert_array_equal(new, old)
    photo = np.random.default_rng(2).random((40, 36, 3), dtype=np.float32)
    np.testing.assert_allclose(stylizer(photo, style="shipwreck"),
                               base(photo, style="shipwreck"), atol=1e-6)
    resumed = train_fast(matisse, photo_folder, steps=1, resume=path, progress=False,
                         precision="float32")
    assert resumed.record["steps"] == 4 and resumed.record["added_to"]["styles"] == 2
    kept = weights_by_layer(resumed.model)
    np.testing.assert_array_equal(kept["encode1_conv"][0], before["encode1_conv"][0])
    with pytest.raises(ModelFileError, match="adds 1 style.s. to 2, and 2 were given"):
        train_fast(paintings, photo_folder, steps=1, resume=path, progress=False)


def test_a_style_is_added_to_a_one_style_network_too(paintings, photo_folder, tmp_path):
    one = tmp_path / "one.keras"
    train_fast(paintings[0], photo_folder, steps=2, checkpoint=one, progress=False,
               precision="float32", **TINY)
    two = train_fast(paintings[1], photo_folder, steps=2, add_to=one, progress=False,
                     precision="float32").stylizer
    photo = np.random.default_rng(3).random((40, 36, 3), dtype=np.float32)
    assert two.styles == NAMES
    np.testing.assert_allclose(two(photo), FastStylizer.load(one)(photo), atol=1e-6)


def test_adding_keeps_the_network_s_recipe(two_styles, paintings, photo_folder):
    _, base_path = two_styles
    with pytest.raises(ModelFileError, match="width 8 differs from the recipe of .* add_to "
                                             "keeps its recipe"):
        train_fast(paintings[0], photo_folder, steps=1, add_to=base_path, width=8)
    with pytest.raises(OptionError, match="resume cannot be combined with add_to"):
        train_fast(paintings[0], photo_folder, steps=1, add_to=base_path, resume=base_path)


@pytest.mark.parametrize("given, weights", [
    (None, [1, 0, 0]), ("shipwreck", [0, 1, 0]), (2, [0, 0, 1]), ("1", [0, 1, 0]),
    ({"starry_night": 3, "woman_with_hat": 1}, [0.75, 0, 0.25]),
    ("starry_night=1, shipwreck=1", [0.5, 0.5, 0]),
])
def test_a_style_is_a_name_an_index_or_a_mix(given, weights):
    names = ["starry_night", "shipwreck", "woman_with_hat"]
    assert style_weights(given, names) == pytest.approx(weights)


@pytest.mark.parametrize("given, message", [
    ("sunflowers", "paints starry_night, shipwreck; got 'sunflowers'"),
    (5, "got 5"),
    ("starry_night=x", "'starry_night=x' is not NAME=WEIGHT"),
    ({"starry_night": 0}, "sum to 0"),
    ({"starry_night": -1}, "style weight must be a number >= 0"),
])
def test_a_style_the_model_does_not_paint_is_one_line(given, message):
    with pytest.raises(OptionError, match=message):
        style_weights(given, NAMES)


def test_a_retuned_style_learns_alone_with_its_new_loss_weights(two_styles, paintings,
                                                                photo_folder, tmp_path):
    _, base_path = two_styles
    base = FastStylizer.load(base_path)
    path = tmp_path / "retuned.keras"
    result = train_fast(paintings[1], photo_folder, steps=2, retune=base_path, checkpoint=path,
                        progress=False, precision="float32", luminance_weight=1e5)
    assert result.record["retuned"] == {"model": "two.keras", "styles": ["shipwreck"],
                                        "steps": 4, "seconds": base.record["seconds"],
                                        "precisions": ["float32"]}
    assert tuple(result.record["recipe"]["luminance_weight"]) == (0.0, 1e5)
    assert result.record["styles"] == ["starry_night.jpg", "shipwreck.jpg"]
    assert result.history.luminance.min() > 0  # every step trained shipwreck, with the loss
    stylizer = FastStylizer.load(path)
    before, after = weights_by_layer(base.model), weights_by_layer(stylizer.model)
    for name, weights in before.items():
        for old, new in zip(weights, after[name], strict=True):
            if name.endswith("_norm"):  # starry_night's row kept, shipwreck's trained again
                np.testing.assert_array_equal(new[0], old[0])
                assert np.abs(new[1] - old[1]).max() > 0
            else:
                np.testing.assert_array_equal(new, old)
    resumed = train_fast(paintings[1], photo_folder, steps=1, resume=path, progress=False,
                         precision="float32")
    assert resumed.record["steps"] == 3 and resumed.record["retuned"]["styles"] == ["shipwreck"]
    np.testing.assert_array_equal(weights_by_layer(resumed.model)["encode1_norm"][0][0],
                                  before["encode1_norm"][0][0])
    with pytest.raises(ModelFileError, match="retunes 1 style.s., and 2 were given"):
        train_fast(paintings, photo_folder, steps=1, resume=path, progress=False)


@pytest.mark.parametrize(("given", "message"), [
    ("woman_with_hat", "retune: '.*two.keras' does not paint 'woman_with_hat' \\(it paints "
                       "starry_night, shipwreck\\)"),
    ("array", "retune: give the paintings as files"),
    ("twice", "retune: 'shipwreck' is given twice"),
])
def test_retune_names_styles_the_network_paints(two_styles, paintings, photo_folder, given,
                                                message):
    _, base_path = two_styles
    style = {"woman_with_hat": painting_path("woman_with_hat"),
             "array": np.zeros((32, 32, 3), np.float32),
             "twice": [paintings[1], paintings[1]]}[given]
    with pytest.raises(OptionError, match=message):
        train_fast(style, photo_folder, steps=1, retune=base_path)
    with pytest.raises(OptionError, match="add_to cannot be combined with retune"):
        train_fast(paintings[1], photo_folder, steps=1, add_to=base_path, retune=base_path)


def test_the_commands_train_several_styles_and_paint_a_mix(tmp_path, paintings, photo_folder,
                                                            photo_path, capsys):
    model = tmp_path / "two.keras"
    tiny = ["--size", "32", "--batch-size", "1", "--width", "4", "--residual-blocks", "1",
            "--style-size", "32", "--precision", "float32", "--quiet"]
    assert main(["train-fast", *map(str, paintings), str(photo_folder), "-o", str(model),
                 "--steps", "2", *tiny]) == 0
    out = tmp_path / "mix.png"
    assert main(["fast", str(model), str(photo_path), "-o", str(out), "--size", "48",
                 "--style", "starry_night=0.3,shipwreck=0.7", "--quiet"]) == 0
    assert out.is_file()
    capsys.readouterr()
    assert main(["fast", str(model), str(photo_path), "-o", str(tmp_path / "no.png"),
                 "--style", "sunflowers"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "nstlab: error: --style: the model paints starry_night, shipwreck; got 'sunflowers'"]
    assert main(["train-fast", str(paintings[0]), str(photo_folder), "-o", str(model),
                 "--resume", str(model), "--steps", "1"]) == 2
    assert "paints 2 style(s), and 1 were given" in capsys.readouterr().err
    assert main(["train-fast", *map(str, paintings), str(photo_folder), "-o", str(model),
                 "--resume", str(model), "--steps", "1", "--content-weight", "1", "2"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "nstlab: error: --content-weight 1 2 differs from the recipe of "
        f"'{model}' (10000); --resume keeps its recipe"]
    assert main(["train-fast", *map(str, paintings), str(photo_folder), "-o",
                 str(tmp_path / "three.keras"), "--content-weight", "1", "2", "3"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "nstlab: error: --content-weight got 3 weights for 2 painting(s)"]
    added = tmp_path / "added.keras"
    assert main(["train-fast", str(painting_path("woman_with_hat")), str(photo_folder), "-o",
                 str(added), "--add-to", str(model), "--steps", "2", "--quiet"]) == 0
    assert main(["fast", str(added), str(photo_path), "-o", str(tmp_path / "added.png"),
                 "--size", "48", "--style", "woman_with_hat", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["train-fast", str(paintings[0]), str(photo_folder), "-o",
                 str(tmp_path / "wide.keras"), "--add-to", str(model), "--width", "8"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"nstlab: error: --width 8 differs from the recipe of '{model}' (4); --add-to keeps "
        "its recipe"]
