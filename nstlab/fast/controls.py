"""What a user can change when a trained network paints a photo, and the checks of it.

A trained network's style is fixed, but three things about its picture are not:

* **size**, the working resolution: the network paints the photo resized so its longest
  side is ``size`` px, and the picture is resized back to the photo's size. Its strokes are
  a fixed number of *network* pixels wide, so on a big photo a smaller ``size`` gives
  larger strokes (and a faster run); ``None`` paints the photo at its own size.
* **preserve_color**, the modes of :func:`nstlab.stylize` that apply after training:
  ``"post"`` keeps the picture's luminance and the photo's colours
  (:func:`nstlab.imaging.color.transfer_luminance`); ``"luminance"`` also shows the network
  only the photo's luminance (a grey photo), as ``stylize`` shows its loss network, so the
  photo's colours cannot steer the strokes. ``"histogram"`` recolours the *painting* before
  the style is learnt: for a trained network that means training it again.
* **strength** in [0, 1]: how much of the picture is mixed with the photo, in linear light
  (:func:`nstlab.imaging.color.blend_linear_light`); 1 is the network's picture, 0 the photo.

TensorFlow-free: ``nstlab fast`` checks its flags with :func:`check_controls` before
TensorFlow starts.
"""

from __future__ import annotations

from nstlab.base.validators import OptionError, check_choice, check_number
from nstlab.run.options import PRESERVE_COLOR

#: The ``preserve_color`` modes of :func:`nstlab.stylize` that a trained network can apply.
FAST_PRESERVE_COLOR = tuple(mode for mode in PRESERVE_COLOR if mode != "histogram")
#: The smallest working resolution (the network's 9x9 convolutions pad 4 px by reflection).
MIN_SIZE = 8


def check_controls(size=None, strength=1.0, preserve_color=None, *,
                   names=("size", "strength", "preserve_color")) -> tuple:
    """``(size, strength, preserve_color)`` checked, else a one-line :class:`OptionError`.

    ``names`` are the labels the errors use (the command passes its flags).
    """
    size_name, strength_name, color_name = names
    if size is not None:
        size = check_number(size, size_name, whole=True, at_least=MIN_SIZE)
    strength = check_number(strength, strength_name, at_least=0)
    if strength > 1:
        raise OptionError(f"{strength_name} must be between 0 and 1, got {strength!r}")
    if preserve_color == "histogram":
        raise OptionError(f"{color_name} histogram recolours the painting before its style is "
                          "learnt, so a trained network cannot apply it; use "
                          f"{' or '.join(FAST_PRESERVE_COLOR)}, or train on a recoloured "
                          "painting")
    if preserve_color is not None:
        check_choice(preserve_color, FAST_PRESERVE_COLOR, color_name, or_none=True)
    return size, float(strength), preserve_color
