"""The checks of notebook 09: each accepts the reference solution, explains wrong answers,
says "not done yet" for a stub, and refuses the package function that solves it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import nstlab
from nstlab.classroom.checks import WriteItYourself
from nstlab.classroom.checks import fast as checks
from nstlab.fast import network

# --------------------------------------------------------------------------- answers


def instance_norm(x, epsilon=1e-5):
    mean, variance = tf.nn.moments(tf.convert_to_tensor(x), axes=[1, 2], keepdims=True)
    return (x - mean) / tf.sqrt(variance + epsilon)


def batch_norm(x, epsilon=1e-5):
    mean, variance = tf.nn.moments(tf.convert_to_tensor(x), axes=[0, 1, 2], keepdims=True)
    return (x - mean) / tf.sqrt(variance + epsilon)


def centred_only(x, epsilon=1e-5):
    return x - np.mean(x, axis=(1, 2), keepdims=True)


def residual_block(x, channels):
    y = network.ReflectionPadding(1)(x)
    y = keras.layers.Conv2D(channels, 3)(y)
    y = network.InstanceNormalization()(y)
    y = keras.layers.ReLU()(y)
    y = network.ReflectionPadding(1)(y)
    y = keras.layers.Conv2D(channels, 3)(y)
    y = network.InstanceNormalization()(y)
    return keras.layers.Add()([x, y])


def plain_block(x, channels):
    y = keras.layers.Conv2D(channels, 3, padding="same")(x)
    y = network.InstanceNormalization()(y)
    y = keras.layers.ReLU()(y)
    y = keras.layers.Conv2D(channels, 3, padding="same")(y)
    return network.InstanceNormalization()(y)


def relu_after_sum(x, channels):
    return keras.layers.ReLU()(residual_block(x, channels))


def package_block(x, channels):
    return network.residual_block(x, channels, name="mine")


def train_step(model, objective, optimizer, photos):
    with tf.GradientTape() as tape:
        total, _ = objective(model(photos, training=True), content=photos)
    gradients = tape.gradient(total, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return total


def photos_as_pictures(model, objective, optimizer, photos):
    with tf.GradientTape() as tape:
        pictures = model(photos, training=True)
        total, _ = objective(photos, content=photos)
        total += 0.0 * tf.reduce_sum(pictures)
    gradients = tape.gradient(total, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return total


def forgets_to_update(model, objective, optimizer, photos):
    return objective(model(photos, training=True), content=photos)[0]


def stub(*args):
    raise NotImplementedError


CASES = [
    ("check_instance_norm", instance_norm, batch_norm, "batch normalisation"),
    ("check_instance_norm", instance_norm, centred_only, "did not divide"),
    ("check_residual_block", residual_block, plain_block, "should return its input"),
    ("check_residual_block", residual_block, relu_after_sum, "without a ReLU after the sum"),
    ("check_fast_train_step", train_step, photos_as_pictures, "loss of the photos themselves"),
    ("check_fast_train_step", train_step, forgets_to_update, "did not change"),
]


def test_every_check_is_exported():
    for name in checks.__all__:
        assert getattr(nstlab.classroom.checks, name) is getattr(checks, name)


@pytest.mark.parametrize(("name", "right", "wrong", "reason"), CASES,
                         ids=[f"{c[0]}-{c[2].__name__}" for c in CASES])
def test_check_accepts_the_reference_and_explains_a_wrong_answer(grades_answers, name, right,
                                                                 wrong, reason):
    grades_answers(getattr(checks, name), right, [(wrong, reason)], stub)


@pytest.mark.parametrize("name", checks.__all__)
def test_a_stub_is_not_done_yet(monkeypatch, capsys, name):
    monkeypatch.delenv("NSTLAB_STRICT_CHECKS", raising=False)
    assert getattr(checks, name)(stub) is False
    assert "not done yet" in capsys.readouterr().out


def test_the_package_block_is_refused(monkeypatch):
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    with pytest.raises(WriteItYourself, match="nstlab.fast.network.residual_block"):
        checks.check_residual_block(package_block)
    with pytest.raises(WriteItYourself, match="InstanceNormalization"):
        checks.check_instance_norm(lambda x, epsilon: network.InstanceNormalization(epsilon)(x))
