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
* **style**, for a network trained on several paintings: which one it paints, or a mix of
  them (:func:`style_weights`).

TensorFlow-free: ``nstlab fast`` checks its flags with :func:`check_controls` and
:func:`style_weights` before TensorFlow starts.
"""

from __future__ import annotations

from collections.abc import Mapping

from nstlab.base.validators import OptionError, check_choice, check_number
from nstlab.imaging.color import PRESERVE_COLOR

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


def style_weights(style, names: list[str], *, label: str = "style") -> list[float]:
    """The weights of each of a model's styles ``names`` for the choice ``style``.

    ``style`` is ``None`` (the first style), a style's name or index, a mapping of names to
    weights (``{"starry_night": 0.7, "shipwreck": 0.3}``: a mix, scaled to sum to 1), or
    the same as text, as the command line gives it (``"starry_night=0.7,shipwreck=0.3"``).
    A one-line :class:`OptionError` for a name the model does not paint.
    """
    if style is None:
        style = 0
    if isinstance(style, str) and "=" in style:
        style = dict(_weighted(part, label) for part in style.split(","))
    if not isinstance(style, Mapping):
        style = {style: 1.0}
    weights = [0.0] * len(names)
    for key, weight in style.items():
        weights[_style_index(key, names, label)] += check_number(weight, f"{label} weight",
                                                                 at_least=0)
    if not sum(weights) > 0:
        raise OptionError(f"{label}: the weights sum to 0; give at least one above 0")
    return [weight / sum(weights) for weight in weights]


def _weighted(part: str, label: str) -> tuple[str, float]:
    name, _, weight = part.partition("=")
    try:
        return name.strip(), float(weight)
    except ValueError:
        raise OptionError(f"{label}: '{part}' is not NAME=WEIGHT") from None


def _style_index(key, names: list[str], label: str) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(names):
        return key
    if isinstance(key, str) and key in names:
        return names.index(key)
    if isinstance(key, str) and key.isdigit() and int(key) < len(names):
        return int(key)
    raise OptionError(f"{label}: the model paints {', '.join(names)}; got {key!r}")
