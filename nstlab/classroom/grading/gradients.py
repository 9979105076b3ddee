"""Whether a student's answer keeps its gradient, told across the sandbox's wall.

Several checks ask more than the right number: a loss must stay in TensorFlow, so that the
optimiser gets a gradient (:func:`nstlab.classroom.checks.answers.expect_gradient`). The
grader runs those checks outside the sandbox, where the student's function is a proxy that
returns plain data, so the tape outside cannot see into the student's code. So:

* inside, :func:`call_with_gradients` runs the student's function under a
  ``tf.GradientTape`` that watches every floating-point tensor among its arguments, and
  takes the gradient of the sum of the result (of its first item, for a ``(loss, parts)``
  pair) with respect to each: an array, or ``None`` where the trail was lost;
* outside, :func:`reconnect` gives the returned value a gradient again, through
  ``tf.custom_gradient``: the tape of the check sees exactly what the student's code gave.

The gradient that crosses is that of the sum of the outputs, so it is exact for a scalar
loss (and for the sum of a tensor, which is what a check's tape takes of it); for any other
upstream gradient it is scaled by the upstream's mean, enough to tell "a gradient" from
"none" but not a Jacobian. What crosses is reported by the student's own process: an answer
could fake the *presence* of a gradient, never the values the grader compares.
"""

from __future__ import annotations


def float_tensors(args, kwargs) -> list:
    """The floating-point tensors among ``args`` and ``kwargs`` (nested too), in one order
    that both sides of the wall compute alike."""
    import tensorflow as tf

    return [item for item in tf.nest.flatten((list(args), dict(kwargs)))
            if tf.is_tensor(item) and item.dtype.is_floating]


def _differentiated(result):
    """The part of a result whose gradient counts: the result, or a pair's first item."""
    return result[0] if isinstance(result, tuple | list) and result else result


def call_with_gradients(function, args, kwargs):
    """``(result, gradients)``: the student's function called under a tape (inside).

    ``gradients`` is None when the result is not a floating-point tensor (nothing to
    differentiate), else one entry per :func:`float_tensors` argument: an array or None.
    """
    import tensorflow as tf

    sources = float_tensors(args, kwargs)
    with tf.GradientTape() as tape:
        for source in sources:
            tape.watch(source)
        result = function(*args, **kwargs)
    target = _differentiated(result)
    if not sources or not (tf.is_tensor(target) and target.dtype.is_floating):
        return result, None
    found = tape.gradient(target, sources)
    return result, [None if gradient is None else gradient.numpy() for gradient in found]


def reconnect(value, args, kwargs, gradients):
    """``value`` (decoded outside) with the gradients the sandbox reported, for the tape of
    the check that called the proxy; ``value`` as it is when there are none."""
    import tensorflow as tf

    sources = float_tensors(args, kwargs)
    target = _differentiated(value)
    if gradients is None or not tf.is_tensor(target) or len(gradients) != len(sources):
        return value
    reported = [None if gradient is None or tuple(getattr(gradient, "shape", ())) != tuple(
                    source.shape) else tf.constant(gradient, dtype=source.dtype)
                for gradient, source in zip(gradients, sources, strict=True)]

    @tf.custom_gradient
    def connected(*inputs):
        def backward(upstream):
            scale = tf.reduce_mean(upstream)
            return [None if gradient is None else scale * gradient for gradient in reported]

        return tf.identity(target), backward

    joined = connected(*sources)
    if isinstance(value, tuple | list) and value:
        rest = list(value[1:])
        return type(value)([joined, *rest]) if isinstance(value, tuple) else [joined, *rest]
    return joined
