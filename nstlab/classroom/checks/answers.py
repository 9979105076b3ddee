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
