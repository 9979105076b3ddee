"""Checks for the exercises of notebooks 01-03: images, VGG features, content and style.

Each check runs the learner's function on small inputs, compares the answer with nstlab's
own code (or with a rule) and says what is wrong when it is not right yet. None of them
needs the pretrained network, so each takes well under a second.

The pieces that style transfer differentiates (``preprocess``, the content loss, the Gram
matrix, the style loss, the mean/std loss) must also let the gradient through: an answer
that computes the right number with NumPy or ``float()`` is refused with a message that
says so (:func:`nstlab.classroom.checks.answers.expect_gradient`).
"""

from __future__ import annotations

import numpy as np

from nstlab.classroom.checks._base import CheckFailed, Solver, exercise_check, expect, input_rng
from nstlab.classroom.checks.answers import as_array, as_scalar, expect_gradient

__all__ = [
    "check_content_layer_choice",
    "check_content_loss",
    "check_first_layer_seeing",
    "check_gram_matrix",
    "check_mean_std_loss",
    "check_output_shape",
    "check_preprocess",
    "check_same_gram",
    "check_style_loss",
]

# --------------------------------------------------------------------------- shared helpers


def _rng(seed: int = 0) -> np.random.Generator:
    return input_rng(seed)


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float32)
    array.setflags(write=False)
    return array


def _close(a, b, rtol=1e-4, atol=1e-4) -> bool:
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _expect_tensor_gradient(answer, what: str, first, *rest) -> None:
    """Call ``answer(first, *rest)`` on tensors and fail unless the gradient reaches ``first``.

    ``first`` is the input that the optimiser changes (the pixels, or features computed from
    them); ``rest`` are targets, passed as constant tensors.
    """
    import tensorflow as tf

    source = tf.constant(np.asarray(first, dtype=np.float32))
    others = [tf.constant(np.asarray(value, dtype=np.float32)) for value in rest]
    expect_gradient(lambda: answer(source, *others), {"its first input": source}, what)


# --------------------------------------------------------------------------- notebook 01


@exercise_check("preprocess", solvers=[
    Solver("nstlab.preprocess"),
    # notebook 01 shows it; every keras.applications.*.preprocess_input for VGG calls it
    Solver("a keras.applications preprocess_input",
           target="keras.applications.imagenet_utils.preprocess_input",
           why="Keras's version of the function this exercise asks you to write"),
])
def check_preprocess(preprocess):
    """Compare your ``preprocess(images)`` with :func:`nstlab.preprocess`.

    It must turn RGB pixels in [0, 1] into VGG input (BGR, 0-255, minus the ImageNet mean
    ``(103.939, 116.779, 123.68)`` in BGR order), for one image (H, W, 3) and for a batch
    (B, H, W, 3), without changing its input, and given a tensor return a tensor that the
    gradient flows through.
    """
    from nstlab.engine.backbones import IMAGENET_MEAN_BGR
    from nstlab.engine.backbones import preprocess as reference

    image = _rng(1).uniform(0, 1, (5, 7, 3)).astype(np.float32)
    image[0, 0] = (1.0, 0.0, 0.0)  # a pure red pixel makes channel order visible
    kept = image.copy()
    want = np.asarray(reference(kept))
    answer = preprocess(image)
    expect(np.array_equal(image, kept), "your function changed its input in place; compute a "
                                        "new array instead (e.g. `image[..., ::-1] * 255.0`)")
    got = as_array(answer, "preprocess")
    expect(got.shape == want.shape, f"the output should keep the shape {want.shape}, "
                                    f"got {got.shape}")
    if not _close(got, want, atol=1e-2):
        red = got[0, 0]
        rgb_order = image[..., :] * 255.0 - np.asarray(IMAGENET_MEAN_BGR)
        expect(not _close(got, rgb_order, atol=1e-2),
               "the channels are still in RGB order: reverse them (`[..., ::-1]`) so the "
               "blue channel comes first, as the Caffe VGG expects")
        expect(not _close(got, image[..., ::-1] * 255.0, atol=1e-2),
               "you forgot to subtract the ImageNet mean (103.939, 116.779, 123.68 in BGR)")
        expect(not _close(got, image[..., ::-1] - np.asarray(IMAGENET_MEAN_BGR), atol=1e-2),
               "scale the pixels from [0, 1] to [0, 255] (multiply by 255) before "
               "subtracting the mean")
        rgb_mean = image[..., ::-1] * 255.0 - np.asarray(IMAGENET_MEAN_BGR)[::-1]
        expect(not _close(got, rgb_mean, atol=1e-2),
               "the mean is in the wrong order: after flipping to BGR subtract "
               "(103.939, 116.779, 123.68), blue first")
        expect(False, f"the values differ from nstlab.preprocess: a pure red pixel should "
                      f"become {np.round(want[0, 0], 2).tolist()}, yours gives "
                      f"{np.round(red, 2).tolist()}")
    batch = _rng(2).uniform(0, 1, (2, 4, 3, 3)).astype(np.float32)
    got = as_array(preprocess(batch), "preprocess (on a batch)")
    expect(got.shape == batch.shape and _close(got, np.asarray(reference(batch)), atol=1e-2),
           "it works for one image but not for a batch (2, H, W, 3): index the channel axis "
           "as the last one (`[..., ::-1]`), whatever comes before it")
    _expect_tensor_gradient(preprocess, "preprocess(image)", image)


def _receptive_fields(backbone: str = "vgg16") -> dict[str, int]:
    from nstlab.engine.backbones import layer_names

    fields = {}
    size, jump = 1, 1
    for name in layer_names(backbone):
        if name.endswith("_conv1") and name != "block1_conv1":
            size += jump  # the 2x2 max pooling before this block (stride 2)
            jump *= 2
        size += 2 * jump  # a 3x3 convolution adds one input step on each side
        fields[name] = size
    return fields


@exercise_check("first layer seeing a patch")
def check_first_layer_seeing(first_layer_seeing):
    """Check ``first_layer_seeing(pixels)``: the shallowest VGG16 convolution layer whose
    receptive field is at least ``pixels`` wide, or ``None`` if no layer sees that much.
    """
    fields = _receptive_fields()
    for pixels in (1, 3, 4, 5, 6, 10, 11, 24, 25, 50, 100, 150, 196, 197, 500):
        want = next((name for name, size in fields.items() if size >= pixels), None)
        got = first_layer_seeing(pixels)
        if got == want:
            continue
        if want is None:
            expect(False, f"no VGG16 layer sees {pixels} px (the deepest, block5_conv3, sees "
                          f"{fields['block5_conv3']} px): return None, got {got!r}")
        expect(got is not None, f"first_layer_seeing({pixels}) returned None, but {want} sees "
                                f"{fields[want]} px")
        expect(got in fields, f"{got!r} is not a VGG16 convolution layer; choose one of "
                              f"{', '.join(fields)}")
        expect(fields[got] >= pixels, f"{got} sees only {fields[got]} px, less than {pixels}")
        expect(False, f"{got} sees {fields[got]} px, but {want}, shallower, already sees "
                      f"{fields[want]} px >= {pixels}: return the first layer that is wide "
                      f"enough")


@exercise_check("output shape", solvers=[
    Solver("nstlab.engine.backbones.build_vgg",
           why="which builds the network: work the shape out without running it"),
])
def check_output_shape(output_shape):
    """Compare your ``output_shape(height, width, layer)`` with the VGG16 stack.

    Convolutions use ``padding="same"`` (they keep height and width); each 2x2 pooling
    halves them, rounding down; blocks 1-5 have 64, 128, 256, 512, 512 channels.
    """
    from nstlab.engine.backbones import FILTERS_PER_BLOCK, layer_names

    cases = [(224, 224, "block1_conv1"), (64, 48, "block2_conv2"), (256, 192, "block4_conv2"),
             (100, 75, "block3_conv1"), (99, 131, "block5_conv3"), (37, 53, "block4_conv1")]
    cases += [(97, 61, name) for name in layer_names("vgg16")]
    for height, width, layer in cases:
        block = int(layer[5])
        want = (height, width)
        for _ in range(block - 1):
            want = (want[0] // 2, want[1] // 2)
        want = (*want, FILTERS_PER_BLOCK[block - 1])
        got = output_shape(height, width, layer)
        expect(got is not None, "output_shape returned None: did you forget `return`?")
        try:
            got = tuple(int(v) for v in got)
        except TypeError:
            raise CheckFailed("return a tuple (height, width, channels)") from None
        expect(len(got) == 3, f"return three numbers (height, width, channels), got {got}")
        if got == want:
            continue
        expect(got[2] == want[2], f"{layer} has {want[2]} channels, not {got[2]} (blocks 1-5 "
                                  f"have 64, 128, 256, 512, 512)")
        expect(False, f"output_shape({height}, {width}, {layer!r}) should be {want}, got "
                      f"{got}. Hint: the convolutions keep the size, and each of the "
                      f"{block - 1} poolings before block {block} halves it, rounding down")


# --------------------------------------------------------------------------- notebook 02


@exercise_check("content loss", solvers=[Solver("nstlab.content_loss")])
def check_content_loss(content_loss):
    """Compare your ``content_loss(features, target)`` with :func:`nstlab.content_loss`.

    The loss is the mean over all elements of the squared difference, a tensor that the
    gradient flows through back to ``features``.
    """
    features = _read_only(_rng(3).normal(1.0, 2.0, (1, 6, 5, 8)))
    target = _read_only(_rng(4).normal(0.5, 2.0, (1, 6, 5, 8)))
    want = float(np.mean((features.astype(np.float64) - target) ** 2))
    got = as_scalar(content_loss(features, target), "content_loss")
    if abs(got - want) <= 1e-4 * want:
        expect(abs(as_scalar(content_loss(target, target), "content_loss")) < 1e-6,
               "the loss of identical features should be 0")
        _expect_tensor_gradient(content_loss, "content_loss(features, target)", features,
                                target)
        return
    n = features.size
    diff = features.astype(np.float64) - target
    hints = [
        (want * n, "you summed the squared differences; take the mean instead"),
        (want / 2, "drop the factor 1/2 (Gatys et al. use it with a sum; nstlab uses the "
                   "plain mean)"),
        (np.sqrt(want), "do not take the square root: the loss is the mean *squared* "
                        "difference"),
        (float(np.mean(np.abs(diff))), "square the differences (you took their absolute "
                                       "value)"),
        (float(np.mean(diff)), "square the differences before averaging"),
        (float(np.sum(diff**2) / 2), "use the mean of the squared differences, without "
                                     "the factor 1/2 and not the sum"),
    ]
    for value, hint in hints:
        if abs(got - value) <= 1e-4 * abs(value) + 1e-9:
            expect(False, hint)
    expect(False, f"expected {want:.4f} for this test input, got {got:.4f}")


_PIXEL_LAYERS = ("block1", "block2")
_LAYOUT_LAYERS = ("block4", "block5")


@exercise_check("content layer choice")
def check_content_layer_choice(content_layer_for):
    """Check ``content_layer_for(goal)`` for the goals ``"pixels"`` and ``"layout"``.

    ``"pixels"``: the reconstruction should keep exact colours and fine detail: a layer of
    block 1 or 2. ``"layout"``: keep only where things are, free to change colours and
    textures: a layer of block 4 or 5.
    """
    from nstlab.engine.backbones import layer_names

    valid = layer_names("vgg16")
    answers = {}
    for goal in ("pixels", "layout"):
        layer = content_layer_for(goal)
        expect(isinstance(layer, str), f"content_layer_for({goal!r}) should return a layer "
                                       f"name (a string such as 'block3_conv2'), got "
                                       f"{layer!r}")
        expect(layer in valid, f"{layer!r} is not a VGG16 layer; choose one of "
                               f"{', '.join(valid)}")
        answers[goal] = layer
    expect(answers["pixels"].startswith(_PIXEL_LAYERS),
           f"{answers['pixels']} is too deep to keep exact pixels: its reconstruction in the "
           "figure above already lost the fine detail. Pick a layer of block 1 or 2")
    expect(answers["layout"].startswith(_LAYOUT_LAYERS),
           f"{answers['layout']} still pins down the pixels (look at its reconstruction): for "
           "the layout only, pick a layer of block 4 or 5")


# --------------------------------------------------------------------------- notebook 03


def _reference_gram(features) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    flat = features.reshape(-1, features.shape[-1])
    return flat.T @ flat / flat.shape[0]


@exercise_check("Gram matrix", solvers=[
    Solver("nstlab.gram_matrix"),
    Solver("nstlab.engine.losses.masked_gram_matrix",
           why="which with a mask of ones is the Gram matrix this exercise asks you to write"),
])
def check_gram_matrix(gram_matrix):
    """Compare your ``gram_matrix(features)`` with :func:`nstlab.gram_matrix`.

    ``features`` has shape (H, W, C); the answer is the (C, C) matrix
    ``G = F^T F / (H*W)`` with ``F`` the features reshaped to (H*W, C), a tensor that the
    gradient flows through back to ``features``.
    """
    height, width, channels = 4, 6, 5
    features = _read_only(_rng(5).uniform(0, 2, (height, width, channels)))
    want = _reference_gram(features)
    got = as_array(gram_matrix(features), "gram_matrix")
    if got.shape == (height * width, height * width):
        expect(False, "your matrix is (H*W, H*W): it compares positions. Use F^T F (channels "
                      "x channels), not F F^T")
    expect(got.shape == (channels, channels),
           f"for features of shape {features.shape} the Gram matrix should be "
           f"({channels}, {channels}), one row and column per channel; got {got.shape}")
    if not _close(got, want, rtol=1e-4):
        expect(not _close(got, want * height * width, rtol=1e-4),
               "divide by the number of positions H*W (you did not normalise)")
        expect(not _close(got, want / channels, rtol=1e-4),
               "divide by H*W only, not by H*W*C (that is the PyTorch tutorial's convention)")
        expect(not _close(got, want * height * width / height, rtol=1e-4)
               and not _close(got, want * height * width / width, rtol=1e-4),
               "divide by the number of positions H*W, both height and width")
        expect(False, f"the values differ from F^T F / (H*W): entry [0, 1] should be "
                      f"{want[0, 1]:.4f}, yours is {got[0, 1]:.4f}")
    expect(_close(got, got.T), "a Gram matrix is symmetric: G[i, j] == G[j, i]")
    other = _read_only(_rng(6).normal(0, 1, (3, 2, 7)))
    got = as_array(gram_matrix(other), "gram_matrix")
    expect(got.shape == (7, 7) and _close(got, _reference_gram(other), rtol=1e-4),
           "it works for one shape but not for (3, 2, 7): do not hard-code sizes")
    _expect_tensor_gradient(gram_matrix, "gram_matrix(features)", features)


@exercise_check("style loss", solvers=[Solver("nstlab.style_loss")])
def check_style_loss(style_loss):
    """Compare your ``style_loss(features, target_gram)`` with :func:`nstlab.style_loss`.

    The loss is ``mean((G - A)^2)`` with ``G`` the Gram matrix of ``features`` (shape
    (1, H, W, C), as the feature extractor returns them) and ``A`` the target Gram matrix
    (C, C): a tensor that the gradient flows through back to ``features``.
    """
    features = _read_only(_rng(7).uniform(0, 2, (1, 4, 5, 6)))
    style_features = _read_only(_rng(8).uniform(0, 3, (1, 7, 3, 6)))
    gram = _reference_gram(features[0])
    target = _read_only(_reference_gram(style_features[0]))
    diff = gram - target
    want = float(np.mean(diff**2))
    try:
        answer = style_loss(features, target)
    except (ValueError, TypeError) as error:
        if "shape" in str(error).lower() or "broadcast" in str(error).lower():
            raise CheckFailed(
                "compare Gram matrices, not features: compute the Gram matrix of `features` "
                f"first ({error})") from None
        raise
    got = as_scalar(answer, "style_loss")
    if abs(got - want) > 1e-4 * want:
        hints = [
            (float(np.sum(diff**2)), "take the mean of the squared differences, not the sum"),
            (float(np.sqrt(np.mean(diff**2))), "do not take the square root"),
            (float(np.mean(np.abs(diff))), "square the differences (not absolute values)"),
            (float(np.mean((gram * 20 - target) ** 2)),
             "normalise the Gram matrix by H*W (the number of positions)"),
        ]
        for value, hint in hints:
            if abs(got - value) <= 1e-4 * abs(value):
                expect(False, hint)
        expect(False, f"expected {want:.4f} for this test input, got {got:.4f}")
    again = as_scalar(style_loss(style_features, target), "style_loss")
    expect(abs(again) < 1e-6 * max(want, 1.0),
           "features whose Gram matrix is the target should give a loss of 0 (the sizes may "
           "differ: only the Gram matrices are compared)")
    _expect_tensor_gradient(style_loss, "style_loss(features, target_gram)", features, target)


#: Added to each channel's variance before the square root of the mean/std statistics, so
#: that the gradient stays finite for a channel that is zero everywhere (common after a ReLU).
MEAN_STD_EPSILON = 1e-5


def _channel_statistics(features, epsilon: float = MEAN_STD_EPSILON):
    """Per-channel mean and standard deviation over the positions of (1, H, W, C) features."""
    flat = np.asarray(features, dtype=np.float64).reshape(-1, np.shape(features)[-1])
    return flat.mean(axis=0), np.sqrt(flat.var(axis=0) + epsilon)


@exercise_check("mean/std style loss")
def check_mean_std_loss(mean_std_loss):
    """Compare your ``mean_std_loss(features, style_features)`` with the statistics of AdaIN.

    Both inputs have shape (1, H, W, C), possibly of different sizes. For each channel take
    the mean ``mu`` over the positions and the standard deviation
    ``sigma = sqrt(variance + 1e-5)``; the loss is ``mean((mu_x - mu_s)^2) +
    mean((sigma_x - sigma_s)^2)``, a tensor whose gradient reaches ``features`` and stays
    finite where a channel is zero everywhere.
    """
    import tensorflow as tf

    features = _rng(9).uniform(0, 2, (1, 4, 5, 6)).astype(np.float32)
    features[..., 2] = 0.0  # a channel the ReLU switched off everywhere
    features = _read_only(features)
    style_features = _read_only(_rng(10).uniform(0, 3, (1, 7, 3, 6)))
    (mean_x, std_x), (mean_s, std_s) = (_channel_statistics(features),
                                        _channel_statistics(style_features))
    want = float(np.mean((mean_x - mean_s) ** 2) + np.mean((std_x - std_s) ** 2))
    got = as_scalar(mean_std_loss(features, style_features), "mean_std_loss")
    if abs(got - want) > 1e-3 * want:
        var_x, var_s = std_x**2 - MEAN_STD_EPSILON, std_s**2 - MEAN_STD_EPSILON
        (_, bare_x), (_, bare_s) = (_channel_statistics(features, 0.0),
                                    _channel_statistics(style_features, 0.0))
        hints = [
            (float(np.mean((mean_x - mean_s) ** 2) + np.mean((bare_x - bare_s) ** 2)),
             "add 1e-5 to the variance before the square root: without it a channel that is "
             "zero everywhere gives a NaN gradient"),
            (float(np.mean((mean_x - mean_s) ** 2)),
             "you compared only the means: add the same term for the standard deviations"),
            (float(np.mean((std_x - std_s) ** 2)),
             "you compared only the standard deviations: add the same term for the means"),
            (float(np.mean((mean_x - mean_s) ** 2) + np.mean((var_x - var_s) ** 2)),
             "compare standard deviations, not variances: take the square root of the "
             "variance (plus 1e-5)"),
            (float(np.sum((mean_x - mean_s) ** 2) + np.sum((std_x - std_s) ** 2)),
             "take the mean over the channels, not the sum"),
        ]
        for value, hint in hints:
            if abs(got - value) <= 1e-3 * abs(value):
                expect(False, hint)
        expect(False, f"expected {want:.4f} for this test input, got {got:.4f}. The "
                      "statistics are per channel, over the positions (axes 1 and 2)")
    same = as_scalar(mean_std_loss(style_features, style_features), "mean_std_loss")
    expect(abs(same) < 1e-6, "features compared with themselves should give a loss of 0")
    _expect_tensor_gradient(mean_std_loss, "mean_std_loss(features, style_features)",
                            features, style_features)
    source = tf.constant(features)
    with tf.GradientTape() as tape:
        tape.watch(source)
        value = mean_std_loss(source, tf.constant(style_features))
    gradient = np.asarray(tape.gradient(value, source))
    expect(bool(np.all(np.isfinite(gradient))),
           "the gradient is NaN or infinite where a channel is zero everywhere: the square "
           "root of a variance of 0 has no finite slope. Add 1e-5 to the variance before "
           "tf.sqrt")


#: The candidates of the "same Gram matrix" exercise, and whether each keeps the Gram
#: matrix of the *pixels* (a feature map with the 3 channels R, G, B).
SAME_GRAM_CANDIDATES = {
    "flipped": True,           # mirrored left-right: the same pixels in other places
    "shuffled": True,          # every pixel moved to a random place
    "rotated": True,           # turned by 90 degrees
    "tiled": True,             # four copies side by side (2x2)
    "brighter": False,         # every value times 1.2: the Gram matrix grows by 1.44
    "channels_swapped": False,  # red and blue exchanged: rows/columns of G exchanged
    "cropped": False,          # the top half only: a different set of pixels
}


@exercise_check("same Gram matrix")
def check_same_gram(same_gram):
    """Check ``same_gram()``: the candidates whose pixel Gram matrix equals the original's.

    The Gram matrix sums over positions, so anything that only moves pixels around keeps
    it; anything that changes the values, or which pixels there are, changes it.
    """
    answer = same_gram()
    expect(answer is not None, "same_gram returned None: did you forget `return`?")
    expect(not isinstance(answer, str), "return a list of names, e.g. ['flipped']")
    answer = set(answer)
    unknown = answer - set(SAME_GRAM_CANDIDATES)
    expect(not unknown, f"unknown name(s) {sorted(unknown)}; choose from "
                        f"{sorted(SAME_GRAM_CANDIDATES)}")
    right = {name for name, same in SAME_GRAM_CANDIDATES.items() if same}
    reasons = {
        "flipped": "mirroring only moves pixels, and the Gram matrix averages over positions",
        "shuffled": "shuffling only moves pixels: each pixel still adds the same products",
        "rotated": "rotating only moves pixels",
        "tiled": "four copies have the same average of products as one (the Gram matrix is "
                 "normalised by the number of positions)",
        "brighter": "scaling the values by 1.2 scales the Gram matrix by 1.2^2",
        "channels_swapped": "swapping channels swaps rows and columns of the Gram matrix",
        "cropped": "the top half has other pixels than the whole image (different colours)",
    }
    missing = sorted(right - answer)
    extra = sorted(answer - right)
    expect(not missing, f"{missing[0]!r} keeps the Gram matrix too: "
                        f"{reasons[missing[0]]}" if missing else "")
    expect(not extra, f"{extra[0]!r} changes the Gram matrix: {reasons[extra[0]]}"
           if extra else "")
