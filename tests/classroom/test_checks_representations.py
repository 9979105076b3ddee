"""The checks of notebooks 01-03 accept the reference answers and explain wrong ones."""

import numpy as np
import pytest
import tensorflow as tf

import nstlab
from nstlab.classroom.checks import representations as checks
from nstlab.classroom.checks._base import CheckFailed

MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")


@pytest.fixture
def lenient(monkeypatch):
    monkeypatch.delenv("NSTLAB_STRICT_CHECKS", raising=False)


# ---------------------------------------------------------------- reference answers


def preprocess(image):
    return tf.convert_to_tensor(image, tf.float32)[..., ::-1] * 255.0 - MEAN_BGR


def receptive_field(layer):
    size, jump = 1, 1
    for name in nstlab.layer_names("vgg16"):
        if name.endswith("_conv1") and name != "block1_conv1":
            size, jump = size + jump, jump * 2
        size += 2 * jump
        if name == layer:
            return size


def first_layer_seeing(pixels):
    for name in nstlab.layer_names("vgg16"):
        if receptive_field(name) >= pixels:
            return name
    return None


def output_shape(height, width, layer):
    block = int(layer[5])
    for _ in range(block - 1):
        height, width = height // 2, width // 2
    return height, width, (64, 128, 256, 512, 512)[block - 1]


def content_loss(features, target):
    return tf.reduce_mean(tf.square(features - target))


def content_layer_for(goal):
    return {"pixels": "block1_conv2", "layout": "block5_conv2"}[goal]


def gram_matrix(features):
    flat = tf.reshape(features, (-1, tf.shape(features)[-1]))
    return tf.matmul(flat, flat, transpose_a=True) / tf.cast(tf.shape(flat)[0], tf.float32)


def style_loss(features, target_gram):
    return tf.reduce_mean(tf.square(gram_matrix(features[0]) - target_gram))


def mean_std_loss(features, style_features):
    def statistics(f):
        mean, variance = tf.nn.moments(f, axes=[0, 1, 2])
        return mean, tf.sqrt(variance + 1e-5)

    (mean_x, std_x), (mean_s, std_s) = statistics(features), statistics(style_features)
    return tf.reduce_mean(tf.square(mean_x - mean_s)) + tf.reduce_mean(tf.square(std_x - std_s))


def same_gram():
    return ["flipped", "shuffled", "rotated", "tiled"]


def numpy_gram(features):
    flat = np.reshape(features, (-1, features.shape[-1]))
    return flat.T @ flat / flat.shape[0]


REFERENCE = [
    (checks.check_preprocess, preprocess),
    (checks.check_first_layer_seeing, first_layer_seeing),
    (checks.check_output_shape, output_shape),
    (checks.check_content_loss, content_loss),
    (checks.check_content_layer_choice, content_layer_for),
    (checks.check_gram_matrix, gram_matrix),
    (checks.check_style_loss, style_loss),
    (checks.check_mean_std_loss, mean_std_loss),
    (checks.check_same_gram, same_gram),
]


@pytest.mark.parametrize("check, answer", REFERENCE, ids=lambda x: getattr(x, "__name__", ""))
def test_reference_answers_pass(check, answer, strict, capsys):
    assert check(answer) is True
    assert "correct" in capsys.readouterr().out


def test_all_checks_are_tested():
    assert {check.__name__ for check, _ in REFERENCE} == set(checks.__all__)


# ---------------------------------------------------------------- wrong answers


def preprocess_in_place(image):
    image *= 255.0
    return image[..., ::-1] - MEAN_BGR


WRONG = [
    (checks.check_preprocess, lambda x: x * 255.0 - MEAN_BGR, "RGB order"),
    (checks.check_preprocess, lambda x: x[..., ::-1] * 255.0, "mean"),
    (checks.check_preprocess, lambda x: x[..., ::-1] - MEAN_BGR, "255"),
    (checks.check_preprocess, lambda x: x[..., ::-1] * 255.0 - MEAN_BGR[::-1], "wrong order"),
    (checks.check_preprocess, preprocess_in_place, "in place"),
    (checks.check_preprocess, lambda x: x[:, :, ::-1] * 255.0 - MEAN_BGR
     if x.ndim == 3 else x * 0, "batch"),
    (checks.check_first_layer_seeing, lambda p: "block5_conv3", "shallower"),
    (checks.check_first_layer_seeing, lambda p: "block1_conv1", "sees only"),
    (checks.check_first_layer_seeing, lambda p: None, "returned None"),
    (checks.check_first_layer_seeing, lambda p: first_layer_seeing(p) or "block5_conv3",
     "return None"),
    (checks.check_first_layer_seeing,  # receptive fields without the poolings
     lambda p: next((n for i, n in enumerate(nstlab.layer_names()) if 3 + 2 * i >= p), None),
     "shallower"),
    (checks.check_output_shape, lambda h, w, layer: (h, w, 64), "channels"),
    (checks.check_output_shape,
     lambda h, w, layer: (-(-h // 2 ** (int(layer[5]) - 1)), -(-w // 2 ** (int(layer[5]) - 1)),
                          (64, 128, 256, 512, 512)[int(layer[5]) - 1]), "rounding down"),
    (checks.check_content_loss, lambda f, t: tf.reduce_sum(tf.square(f - t)), "summed"),
    (checks.check_content_loss, lambda f, t: tf.reduce_mean(tf.abs(f - t)), "absolute"),
    (checks.check_content_loss, lambda f, t: 0.5 * tf.reduce_mean(tf.square(f - t)), "1/2"),
    (checks.check_content_layer_choice, lambda goal: "block4_conv2", "block 1 or 2"),
    (checks.check_content_layer_choice,
     lambda goal: {"pixels": "block1_conv1", "layout": "block2_conv2"}[goal], "block 4 or 5"),
    (checks.check_content_layer_choice, lambda goal: "relu4_2", "not a VGG16 layer"),
    (checks.check_gram_matrix, lambda f: f.reshape(-1, f.shape[-1]).T @ f.reshape(
        -1, f.shape[-1]), "did not normalise"),
    (checks.check_gram_matrix, lambda f: numpy_gram(f) / f.shape[-1], "H\\*W\\*C"),
    (checks.check_gram_matrix, lambda f: f.reshape(-1, f.shape[-1]) @ f.reshape(
        -1, f.shape[-1]).T, "compares positions"),
    (checks.check_style_loss, lambda f, t: np.sum((numpy_gram(f) - t) ** 2), "not the sum"),
    (checks.check_style_loss, lambda f, t: np.mean((f - t) ** 2), "compare Gram matrices"),
    (checks.check_style_loss, lambda f, t: np.mean(np.abs(numpy_gram(f) - t)), "square"),
    # the right numbers, but the gradient is cut
    (checks.check_preprocess, lambda x: np.asarray(x)[..., ::-1] * 255.0 - MEAN_BGR,
     "not a TensorFlow tensor"),
    (checks.check_content_loss, lambda f, t: float(np.mean((np.asarray(f) - t) ** 2)),
     "not a TensorFlow tensor"),
    (checks.check_gram_matrix, lambda f: tf.constant(numpy_gram(np.asarray(f))),
     "gradient of gram_matrix"),
    (checks.check_style_loss, lambda f, t: float(np.mean((numpy_gram(np.asarray(f)) - t) ** 2)),
     "cut the gradient"),
    (checks.check_mean_std_loss, lambda f, s: tf.constant(mean_std_loss(f, s).numpy()),
     "gradient of mean_std_loss"),
    (checks.check_mean_std_loss,
     lambda f, s: tf.reduce_mean(tf.square(tf.reduce_mean(f, [0, 1, 2])
                                           - tf.reduce_mean(s, [0, 1, 2]))), "only the means"),
    (checks.check_mean_std_loss,  # summed over the C = 6 channels of the check's input
     lambda f, s: f.shape[-1] * mean_std_loss(f, s), "not the sum"),
    (checks.check_mean_std_loss,
     lambda f, s: tf.reduce_mean(tf.square(tf.reduce_mean(f, [0, 1, 2])
                                           - tf.reduce_mean(s, [0, 1, 2])))
     + tf.reduce_mean(tf.square(tf.math.reduce_std(f, [0, 1, 2])
                                - tf.math.reduce_std(s, [0, 1, 2]))), "NaN"),
    (checks.check_same_gram, lambda: ["flipped", "shuffled", "rotated"], "'tiled' keeps"),
    (checks.check_same_gram, lambda: [*same_gram(), "brighter"], "'brighter' changes"),
    (checks.check_same_gram, lambda: ["upside_down"], "unknown"),
]


@pytest.mark.parametrize("check, answer, message", WRONG,
                         ids=[f"{c.__name__}-{m}" for c, _, m in WRONG])
def test_wrong_answers_are_rejected_with_a_reason(check, answer, message, strict):
    with pytest.raises(CheckFailed, match=message):
        check(answer)


def test_without_strict_mode_a_wrong_answer_prints_the_reason(lenient, capsys):
    assert checks.check_gram_matrix(lambda f: gram_matrix(f) * 2) is False
    out = capsys.readouterr().out
    assert "✗ Gram matrix" in out and "entry [0, 1]" in out


def test_a_crashing_answer_is_reported(lenient, capsys):
    assert checks.check_content_loss(lambda f, t: f.nope) is False
    assert "AttributeError" in capsys.readouterr().out


@pytest.mark.parametrize("check", [check for check, _ in REFERENCE],
                         ids=lambda check: check.__name__)
def test_an_unfinished_exercise_says_not_done_yet(check, strict, capsys):
    def stub(*args):
        raise NotImplementedError

    assert check(stub) is False
    assert "not done yet" in capsys.readouterr().out


def test_the_checks_receptive_fields_match_the_known_vgg16_values():
    # VGG16's conv5_3 sees 196 px (212 with pool5), conv4_3 92, conv3_3 40.
    assert checks._receptive_fields() == {n: receptive_field(n) for n in nstlab.layer_names()}
    assert receptive_field("block5_conv3") == 196
    assert receptive_field("block4_conv3") == 92
    assert receptive_field("block3_conv3") == 40


def test_same_gram_candidates_are_what_they_claim():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (8, 6, 3)).astype(np.float32)
    candidates = {
        "flipped": image[:, ::-1],
        "shuffled": rng.permutation(image.reshape(-1, 3)).reshape(image.shape),
        "rotated": np.rot90(image),
        "tiled": np.tile(image, (2, 2, 1)),
        "brighter": image * 1.2,
        "channels_swapped": image[..., ::-1],
        "cropped": image[:4],
    }
    assert set(candidates) == set(checks.SAME_GRAM_CANDIDATES)
    original = numpy_gram(image)
    for name, candidate in candidates.items():
        same = np.allclose(numpy_gram(candidate), original, atol=1e-5)
        assert same == checks.SAME_GRAM_CANDIDATES[name], name
