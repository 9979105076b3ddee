"""How much of a photo's structure a stylized picture keeps: :func:`structure_kept`.

A style loss says how much a picture looks like the painting, a content loss how close its
deep features are to the photo's; neither says whether a viewer still sees the photo. A fast
network can score a good loss while it dissolves houses into strokes. This measure looks at
what a viewer recognises: the layout of light and dark at a coarse scale.

It is the structural similarity index (SSIM, Wang, Bovik, Sheikh & Simoncelli 2004) of the
two images' luminance, both first shrunk to a quarter of their size. SSIM compares local
means, contrasts and correlations in 11x11 Gaussian windows; at a quarter of the size the
brush strokes (a few pixels wide) are averaged away and the shapes (faces, roofs, skyline)
remain. 1 means the same picture, about 0 a picture unrelated to the photo.

>>> structure_kept(photo, photo)
1.0
"""

from __future__ import annotations

import numpy as np

from nstlab.imaging.color import luminance
from nstlab.imaging.images import load_image, resize_image

#: Both images are shrunk by this factor before SSIM is taken.
STRUCTURE_SCALE = 4


def structure_kept(picture, photo) -> float:
    """SSIM of the luminance of ``picture`` and ``photo`` at a quarter of the picture's size.

    Parameters
    ----------
    picture : image
        The stylized picture (anything :func:`nstlab.load_image` takes).
    photo : image
        The photo it was made from; resized to the picture's size first if it differs.

    Returns
    -------
    float
        SSIM in [-1, 1] (TensorFlow's ``tf.image.ssim``: 11x11 Gaussian window, sigma 1.5,
        K1 = 0.01, K2 = 0.03, the constants of Wang et al.); 1 for identical images. Pictures under
        44 px a side get a window as large as their quarter-size side.
    """
    import tensorflow as tf

    picture = load_image(picture)
    height, width = picture.shape[:2]
    small = (max(1, height // STRUCTURE_SCALE), max(1, width // STRUCTURE_SCALE))
    pair = [luminance(resize_image(image, small))[..., np.newaxis]
            for image in (picture, load_image(photo))]
    window = min(11, *small)  # pictures under 44 px get a smaller window
    return float(tf.image.ssim(tf.constant(pair[0]), tf.constant(pair[1]), max_val=1.0,
                               filter_size=window))
