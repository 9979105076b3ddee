"""Checks for the exercises of notebook 09: fast style transfer's network and training step.

Each check runs the learner's function on tiny inputs (a network 4 channels wide, 32 px
crops, a VGG16 cut after block 3) and compares it with nstlab's own
:mod:`nstlab.fast` or with the property the exercise asks for.
"""

from __future__ import annotations

import functools

import numpy as np

from nstlab.classroom.checks._base import Solver, exercise_check, expect, input_rng

__all__ = ["check_fast_train_step", "check_instance_norm", "check_residual_block"]

TINY = 32  # px: the crops the training-step check uses
EPSILON = 1e-5


def _batch(seed: int = 0) -> np.ndarray:
    """Two 'images' of very different brightness and contrast, (2, 6, 7, 3)."""
    rng = input_rng(seed)
    return np.concatenate([rng.normal(4.0, 3.0, (1, 6, 7, 3)),
                           rng.normal(-1.0, 0.2, (1, 6, 7, 3))]).astype(np.float32)


def _normalized(x: np.ndarray, axes) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + EPSILON)


@exercise_check("instance normalisation", solvers=[
    Solver("nstlab.fast.network.InstanceNormalization",
           target="nstlab.fast.network.InstanceNormalization.call",
           why="the layer this exercise asks you to write")])
def check_instance_norm(instance_norm):
    """``instance_norm(x, epsilon)``: each image's channels to mean 0 and variance 1 over
    its own height and width (not over the batch)."""
    x = _batch()
    got = instance_norm(x, EPSILON)
    expect(got is not None, "instance_norm returned None: did you forget `return`?")
    got = np.asarray(got, dtype=np.float32)
    expect(got.shape == x.shape, f"the result should keep the shape {x.shape}, got {got.shape}")
    want = _normalized(x, (1, 2))
    if np.allclose(got, want, atol=1e-3):
        alone = np.asarray(instance_norm(x[1:], EPSILON), dtype=np.float32)
        expect(np.allclose(alone, want[1:], atol=1e-3),
               "the second image alone gives another result than inside the batch")
        return
    hints = (
        ((0, 1, 2), "you normalised over the batch too: that is batch normalisation. Take the "
                    "mean and variance over height and width only (axes 1 and 2)."),
        ((1, 2, 3), "you normalised over the channels too: each channel gets its own mean "
                    "and variance (axes 1 and 2, keepdims=True)."),
        ((0, 1, 2, 3), "you normalised over everything: use axes 1 and 2 only."),
    )
    for axes, hint in hints:
        expect(not np.allclose(got, _normalized(x, axes), atol=1e-3), hint)
    expect(not np.allclose(got, x - x.mean(axis=(1, 2), keepdims=True), atol=1e-3),
           "you subtracted the mean but did not divide by sqrt(variance + epsilon)")
    worst = float(np.abs(got - want).max())
    expect(False, f"your result differs from (x - mean) / sqrt(variance + epsilon) by up to "
                  f"{worst:.3g}, with mean and variance over axes 1 and 2")


@exercise_check("a residual block", solvers=[
    Solver("nstlab.fast.network.residual_block",
           why="the block this exercise asks you to build")])
def check_residual_block(residual_block):
    """``residual_block(x, channels)``: two 3x3 convolutions (with normalisation) whose
    result is added to ``x``; the output has the input's shape."""
    import keras

    channels = 8
    inputs = keras.Input((None, None, channels))
    outputs = residual_block(inputs, channels)
    expect(outputs is not None, "residual_block returned None: did you forget `return`?")
    block = keras.Model(inputs, outputs)
    convs = [layer for layer in block.layers if isinstance(layer, keras.layers.Conv2D)]
    expect(len(convs) == 2, f"a residual block has two convolutions, yours has {len(convs)}")
    expect(all(tuple(conv.kernel_size) == (3, 3) for conv in convs),
           "both convolutions should be 3x3")
    x = input_rng(3).normal(size=(1, 9, 11, channels)).astype(np.float32)
    y = np.asarray(block(x))
    expect(y.shape == x.shape, f"the output should have the input's shape {x.shape}, got "
                               f"{y.shape}: pad by 1 (reflection) before each 3x3 convolution")
    expect(not np.allclose(y, x, atol=1e-4), "the block returns its input unchanged: add the "
                                             "convolutions' result to it")
    for conv in convs:
        conv.set_weights([np.zeros_like(w) for w in conv.get_weights()])
    zeroed = np.asarray(block(x))
    expect(np.allclose(zeroed, x, atol=1e-4),
           "with both convolutions set to zero the block should return its input (that is "
           "what makes it residual): return x + the branch, without a ReLU after the sum")


@functools.cache
def _tiny_setup():
    """A photo batch (2 crops of 32 px) and the Starry Night, offline."""
    from nstlab.imaging.data import load_sample

    photo = load_sample("grace_hopper", max_size=2 * TINY)
    photos = np.stack([photo[:TINY, :TINY], photo[TINY:2 * TINY, -TINY:]])
    painting = load_sample("starry_night", max_size=2 * TINY)
    for array in (photos, painting):
        array.setflags(write=False)
    return photos, painting


def _fresh(photos_painting):
    import keras

    from nstlab.engine.losses import Objective
    from nstlab.fast.network import build_transformer
    from nstlab.run.transfer import seed_everything

    _, painting = photos_painting
    seed_everything(0)
    model = build_transformer(width=4, residual_blocks=1)
    objective = Objective(None, painting, batch_content=True,
                          content_layers=["block2_conv2"],
                          style_layers=["block1_conv1", "block2_conv1", "block3_conv1"])
    # Plain SGD, not Adam: the biases of the convolutions before instance normalisation have
    # a true gradient of zero, and Adam turns its rounding noise (which differs between a
    # compiled and an eager step) into full-size steps of random sign.
    optimizer = keras.optimizers.SGD(1e-11)
    return model, objective, optimizer


@exercise_check("the training step", solvers=[
    Solver("nstlab.fast.training.make_train_step",
           why="which builds the package's training step for you"),
    Solver("nstlab.fast.train_fast", target="nstlab.fast.training.train_fast",
           why="which trains the network for you")])
def check_fast_train_step(train_step):
    """``train_step(model, objective, optimizer, photos)``: one optimiser step on the network's
    weights for the loss of its pictures of ``photos``; returns the total loss before it."""
    import tensorflow as tf

    setup = _tiny_setup()
    photos = tf.constant(setup[0])
    model, objective, optimizer = _fresh(setup)
    start = [w.copy() for w in model.get_weights()]
    total = train_step(model, objective, optimizer, photos)
    expect(total is not None, "train_step should return the total loss")
    got_loss = float(np.asarray(total[0] if isinstance(total, tuple | list) else total))
    got = model.get_weights()

    reference, ref_objective, ref_optimizer = _fresh(setup)
    with tf.GradientTape() as tape:
        want_loss, _ = ref_objective(reference(photos, training=True), content=photos)
    gradients = tape.gradient(want_loss, reference.trainable_variables)
    ref_optimizer.apply_gradients(zip(gradients, reference.trainable_variables, strict=True))
    want = reference.get_weights()

    picture_loss = float(ref_objective(photos, content=photos)[0])
    expect(not np.isclose(got_loss, picture_loss, rtol=1e-3),
           "your loss is the loss of the photos themselves: measure the network's pictures, "
           "objective(model(photos), content=photos)")
    expect(any(not np.array_equal(a, b) for a, b in zip(got, start, strict=True)),
           "the network's weights did not change: apply the gradients with "
           "optimizer.apply_gradients(zip(gradients, model.trainable_variables))")
    expect(np.isclose(got_loss, float(want_loss), rtol=1e-3),
           f"your loss {got_loss:.6g} is not the loss of the network's pictures "
           f"({float(want_loss):.6g}): return objective(model(photos), content=photos)[0], "
           "computed before the update")
    worst = max(float(np.abs(a - b).max()) for a, b in zip(got, want, strict=True))
    change = max(float(np.abs(a - b).max()) for a, b in zip(want, start, strict=True))
    expect(worst <= 1e-3 * change, f"after your step the weights differ from one optimiser "
                                   f"step by up to {worst:.3g} (the step moves them by up to "
                                   f"{change:.3g}): take the gradient of the total loss with "
                                   "respect to model.trainable_variables, inside the tape")
