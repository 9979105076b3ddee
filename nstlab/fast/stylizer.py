"""Stylize photos with a trained fast-style network: :class:`FastStylizer`.

>>> stylizer = FastStylizer.load("starry_night")     # shipped, or a path to a .keras file
>>> picture = stylizer(photo)                         # (H, W, 3) float32 in [0, 1]
>>> softer = stylizer(photo, size=512, strength=0.7, preserve_color="post")
>>> several = FastStylizer.load("three_paintings")   # one network, three paintings
>>> turner = several(photo, style="shipwreck")
>>> mixed = several(photo, style={"starry_night": 0.5, "shipwreck": 0.5})

The controls (working resolution, strength, colour, style) are :mod:`nstlab.fast.controls`'.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from nstlab.fast import modelfile
from nstlab.fast.controls import MIN_SIZE, check_controls, style_weights
from nstlab.fast.network import style_count
from nstlab.fast.recipe import Recipe, model_path
from nstlab.imaging import color
from nstlab.imaging.images import ImageError, load_image, resize_image


class FastStylizer:
    """A trained image transformation network: call it on a photo to stylize it.

    Calling it on an image (anything :func:`nstlab.load_image` takes) returns the stylized
    image, float32 (H, W, 3) in [0, 1], of the photo's size: any size works, because the
    network has only convolutions. The call's keywords (:mod:`nstlab.fast.controls`):

    * ``size``: the working resolution (longest side, px) the network paints at; the
      picture comes back at the photo's size. Smaller gives larger strokes.
    * ``strength`` in [0, 1]: the picture mixed with the photo in linear light.
    * ``preserve_color``: ``"post"`` or ``"luminance"``, as in :func:`nstlab.stylize`.
    * ``style``: for a network trained on several paintings (:attr:`styles`), which it
      paints: a name, an index, or a mix ``{name: weight}`` (default: the first).

    Parameters
    ----------
    model : keras.Model
        The network (:func:`nstlab.fast.network.build_transformer`), trained.
    record : dict
        What its model file records: ``recipe``, ``steps``, ``seconds``, ``history`` ...
    """

    def __init__(self, model, record: dict):
        self.model = model
        self.record = record
        self.recipe = Recipe.from_dict(record.get("recipe", {}))
        #: The styles the network paints (names of the paintings), in its input's order.
        self.styles = modelfile.style_names(record)[:style_count(model)]
        several = len(self.styles) > 1  # then the network also takes the style weights
        # Compiled once for any size: about twice as fast as calling the model eagerly.
        self._forward = tf.function(
            lambda batch, weights: model([batch, weights] if several else batch,
                                         training=False),
            input_signature=[tf.TensorSpec((1, None, None, 3)),
                             tf.TensorSpec((1, len(self.styles)))],
            autograph=False)

    @classmethod
    def load(cls, model, *, backbone: str | None = None) -> FastStylizer:
        """Load a model file, or a shipped model by name (``"starry_night"``).

        With ``backbone``, refuse a model trained with another loss network. A missing,
        damaged or foreign file is a :class:`nstlab.fast.ModelFileError` (one line).
        """
        network, record = modelfile.load_model(model_path(model), backbone=backbone)
        return cls(network, record)

    @property
    def backbone(self) -> str:
        """The loss network the model was trained with."""
        return self.recipe.backbone

    def __call__(self, image, size: int | None = None, *, strength: float = 1.0,
                 preserve_color: str | None = None, style=None) -> np.ndarray:
        size, strength, preserve_color = check_controls(size, strength, preserve_color)
        weights = tf.constant([style_weights(style, self.styles)], tf.float32)
        photo = load_image(image)
        working = photo if size in (None, max(photo.shape[:2])) else resize_image(photo, size)
        if min(working.shape[:2]) < MIN_SIZE:
            raise ImageError(f"image of {working.shape[1]}x{working.shape[0]} px is too small "
                             f"for the network: it needs at least {MIN_SIZE} px a side")
        if preserve_color == "luminance":
            working = color.grey_rgb(working)
        picture = self._forward(tf.constant(working[np.newaxis]), weights)
        picture = np.clip(np.asarray(picture, dtype=np.float32)[0], 0.0, 1.0)
        if picture.shape != photo.shape:
            picture = resize_image(picture, photo.shape[:2])
        if preserve_color is not None:
            picture = color.transfer_luminance(picture, photo)
        return color.blend_linear_light(photo, picture, strength)

    def save(self, path):
        """Write the model file (atomically) to ``path``."""
        return modelfile.save_model(self.model, path, self.record)

    def __repr__(self) -> str:
        r = self.recipe
        styles = f"styles={self.styles}, " if len(self.styles) > 1 else ""
        return (f"FastStylizer({styles}width={r.width}, residual_blocks={r.residual_blocks}, "
                f"trained {self.record.get('steps')} steps on {r.size} px crops, "
                f"backbone={r.backbone!r})")
