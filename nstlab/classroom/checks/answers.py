"""Reading a learner's answer: one number or one array, with a clear message when it is not.

Every check turns what the learner's function returned into plain NumPy before comparing it,
so an answer may be a NumPy array, a TensorFlow tensor or a Python number.
"""

from __future__ import annotations

import numpy as np

from nstlab.classroom.checks._base import CheckFailed, expect


def as_array(value, what: str, dtype=np.float64) -> np.ndarray:
    """``value`` as a NumPy array; "did you forget `return`?" for None."""
    expect(value is not None, f"{what} returned None: did you forget `return`?")
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise CheckFailed(f"{what} should return an array or tensor ({error})") from None


def as_scalar(value, what: str) -> float:
    """``value`` as one float. A ``(loss, parts)`` pair counts as its loss."""
    if isinstance(value, tuple | list):
        value = value[0]
    array = as_array(value, what)
    expect(array.size == 1, f"{what} should return one number (a scalar), got shape "
                            f"{array.shape}")
    return float(array.reshape(()))


def expect_gradient(value_of, sources, what: str) -> None:
    """Fail unless the gradient of ``value_of()`` reaches every tensor in ``sources``.

    ``value_of`` runs the learner's code under a ``tf.GradientTape`` that watches the
    ``sources`` (a dict: the name a message uses -> a tensor). Style transfer needs the
    gradient of the loss with respect to the pixels, so an answer that leaves TensorFlow
    (NumPy, ``float()``, ``.numpy()``) gives the optimiser nothing to follow, even when its
    number is right. The message says which input lost its gradient.
    """
    import tensorflow as tf

    with tf.GradientTape() as tape:
        for tensor in sources.values():
            tape.watch(tensor)
        value = value_of()
    if isinstance(value, tuple | list):
        value = value[0]
    expect(tf.is_tensor(value),
           f"{what} returned a {type(value).__name__}, not a TensorFlow tensor: the right "
           "number, but NumPy or float() cut the gradient. Use tf. operations throughout.")
    gradients = tape.gradient(value, list(sources.values()))
    for name, gradient in zip(sources, gradients, strict=True):
        expect(gradient is not None,
               f"the gradient of {what} with respect to {name} is None: on the way something "
               "left TensorFlow (NumPy, float(), .numpy()), so the tape lost the trail. Use "
               "tf. operations throughout.")
        expect(bool(np.any(np.asarray(gradient) != 0)),
               f"the gradient of {what} with respect to {name} is zero everywhere: "
               "a rounding, a comparison or a constant in between stops it.")
