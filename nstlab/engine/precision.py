"""The arithmetic the network computes in, and the one place ``precision="auto"`` is decided.

The network (VGG's convolutions) can compute in float32 or, with Keras mixed precision, in
16 bits while its weights stay float32 (:func:`nstlab.engine.backbones.build_vgg`). The
Gram matrices and losses are always float32 (:class:`nstlab.engine.features.FeatureExtractor`
casts what the network returns).

``"auto"`` means "the fastest this machine computes natively"; the choice itself comes
from the hardware (:func:`nstlab.base.hardware.fastest_precision`). Everything in nstlab that
takes ``precision`` turns ``"auto"`` into a real precision by calling
:func:`resolve_precision`, and nothing else:

>>> resolve_precision("float32")
'float32'
>>> resolve_precision("auto", device="cpu") in PRECISIONS   # from the CPU's flags alone
True
"""

from __future__ import annotations

from nstlab.base import hardware
from nstlab.base.validators import check_choice

#: The precisions the network can compute in.
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
#: What ``precision`` arguments accept: a precision, or ``"auto"`` for this machine's fastest.
PRECISION_CHOICES = (*PRECISIONS, "auto")


def resolve_precision(precision: str, device: str = "auto") -> str:
    """The precision to compute in: one of :data:`PRECISIONS`, else a one-line error.

    ``"auto"`` becomes the fastest precision for where the network runs: with
    ``device="cpu"`` the CPU decides from its flags (bfloat16 instructions or not), which
    needs no TensorFlow; otherwise (``"auto"``, ``"gpu"``) the GPUs TensorFlow sees decide
    when there are any (:func:`nstlab.base.hardware.fastest_precision`). Any other value is
    returned as it is if it is one of :data:`PRECISIONS`.

    Raises
    ------
    OptionError
        A ``ValueError`` naming the choices, for a precision that is not one of them.
    """
    check_choice(precision, PRECISION_CHOICES, "precision")
    if precision != "auto":
        return precision
    return hardware.fastest_precision(gpus=() if device == "cpu" else None)
