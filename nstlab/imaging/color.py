r"""Colour control for style transfer: keep the photo's colours, or the painting's.

Style transfer copies a painting's textures *and* its colours. Often you want the brush
strokes but the photo's colours. Gatys et al. (2017, "Controlling perceptual factors in
neural style transfer", section 5) give two ways, both here:

* **Luminance-only transfer** (:func:`transfer_luminance`), done after stylizing: keep the
  stylized image's brightness (the Y channel of YIQ) and take the colour (I and Q) from
  the photo. This is what jcjohnson/neural-style's ``-original_colors 1`` does.
* **Colour histogram matching** (:func:`match_color_statistics`), done before stylizing:
  recolour the *painting* so its pixels have the photo's mean colour and colour
  covariance, then stylize with the recoloured painting.

Both can also run *inside* :func:`nstlab.stylize` with ``preserve_color=``:

* ``"luminance"``: luminance-only transfer as the paper does it (section 5.1). The network
  sees grey images only: the photo's luminance, and the painting's luminance with its mean
  and spread matched to the photo's (:func:`luminance_only_inputs`). The optimised
  luminance then gets the photo's I and Q back (:func:`transfer_luminance`).
* ``"histogram"``: the painting is recoloured with :func:`match_color_statistics` first.
* ``"post"``: an ordinary run, then :func:`transfer_luminance` (the simple baseline).

The opposite direction, the painting's colours for the photo, is where
:func:`nstlab.stylize` starts by default: :func:`shift_mean_color` moves the photo's average
colour to the painting's, so the optimiser need not spend its first steps doing it.

Plus :func:`denoise`, a small edge-preserving smoothing filter for the finished image, and
:func:`blend_linear_light`, a mix of a picture with its photo (``nstlab fast --strength``).

Every function takes and returns float32 RGB images of shape (H, W, 3) with values in
[0, 1] (the nstlab pixel convention), using only NumPy and SciPy.

YIQ (the NTSC colour space)
---------------------------
.. math::

    \begin{pmatrix} Y \\ I \\ Q \end{pmatrix} =
    \begin{pmatrix} 0.299 & 0.587 & 0.114 \\
                    0.595716 & -0.274453 & -0.321263 \\
                    0.211456 & -0.522591 & 0.311135 \end{pmatrix}
    \begin{pmatrix} R \\ G \\ B \end{pmatrix}

``Y`` is the luminance (brightness as the eye weighs the three primaries); ``I``
(orange-blue) and ``Q`` (purple-green) carry the colour and are 0 for greys.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PRESERVE_COLOR",
    "RGB_TO_YIQ",
    "YIQ_TO_RGB",
    "blend_linear_light",
    "denoise",
    "grey_rgb",
    "linear_to_srgb",
    "luminance",
    "luminance_only_inputs",
    "match_color_statistics",
    "match_luminance",
    "rgb_to_yiq",
    "shift_mean_color",
    "srgb_to_linear",
    "transfer_luminance",
    "yiq_to_rgb",
]

#: RGB -> YIQ (NTSC, as in the FCC standard; rows give Y, I, Q).
RGB_TO_YIQ = np.array(
    [
        [0.299, 0.587, 0.114],
        [0.595716, -0.274453, -0.321263],
        [0.211456, -0.522591, 0.311135],
    ],
    dtype=np.float64,
)
#: YIQ -> RGB: the exact inverse of :data:`RGB_TO_YIQ`, so a round trip loses nothing.
YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ)
#: The values of ``nstlab.stylize(..., preserve_color=...)`` besides ``None``.
PRESERVE_COLOR = ("luminance", "histogram", "post")

#: The linear maps :func:`match_color_statistics` can use (its ``mode``), the symmetric one
#: first: it is what ``stylize(..., preserve_color="histogram")`` uses unless told.
COLOR_MATCH_MODES = ("sym", "cholesky", "pca")


def _rgb(image, name: str = "image") -> np.ndarray:
    """``image`` as a float32 (H, W, 3) array, or a clear error."""
    pixels = np.asarray(image, dtype=np.float32)
    if pixels.ndim == 4 and pixels.shape[0] == 1:
        pixels = pixels[0]
    if pixels.ndim != 3 or pixels.shape[-1] != 3:
        raise ValueError(f"{name} must be an RGB image of shape (H, W, 3), got {pixels.shape}")
    return pixels


def rgb_to_yiq(image) -> np.ndarray:
    """RGB (H, W, 3) in [0, 1] -> YIQ (H, W, 3) float32.

    Y is in [0, 1]; I is in about [-0.6, 0.6] and Q in about [-0.52, 0.52].
    """
    pixels = _rgb(image)
    return (pixels.astype(np.float64) @ RGB_TO_YIQ.T).astype(np.float32)


def yiq_to_rgb(yiq) -> np.ndarray:
    """YIQ (H, W, 3) -> RGB (H, W, 3) float32, *not* clipped (clip it if you need [0, 1])."""
    values = _rgb(yiq, "yiq")
    return (values.astype(np.float64) @ YIQ_TO_RGB.T).astype(np.float32)


def luminance(image) -> np.ndarray:
    """The luminance Y = 0.299 R + 0.587 G + 0.114 B of an RGB image: (H, W) float32."""
    pixels = _rgb(image)
    return (pixels.astype(np.float64) @ RGB_TO_YIQ[0]).astype(np.float32)


def transfer_luminance(stylized, content) -> np.ndarray:
    """Keep the stylized image's luminance and the content photo's colours.

    Post-hoc colour preservation (jcjohnson/neural-style's ``-original_colors``, Gatys et
    al. 2017 section 5.1 applied after the fact): convert both images to YIQ, take Y
    from ``stylized`` and I, Q from ``content`` (resized to the stylized image's size
    first), and convert back to RGB, clipped to [0, 1].

    Returns a float32 (H, W, 3) image the size of ``stylized``.
    """
    stylized = _rgb(stylized, "stylized")
    content = _rgb(content, "content")
    if content.shape != stylized.shape:
        from nstlab.imaging.images import resize_image

        content = resize_image(np.clip(content, 0, 1), stylized.shape[:2])
    yiq = rgb_to_yiq(content)
    yiq[..., 0] = luminance(stylized)
    return np.clip(yiq_to_rgb(yiq), 0.0, 1.0)


def grey_rgb(image) -> np.ndarray:
    """The luminance Y of an RGB image, repeated in all three channels: (H, W, 3) float32.

    The network expects three channels; a grey RGB image carries Y and no colour (I = Q = 0).
    """
    return _grey(luminance(image))


def _grey(y: np.ndarray) -> np.ndarray:
    return np.repeat(np.clip(y, 0.0, 1.0)[..., np.newaxis], 3, axis=-1).astype(np.float32)


def match_luminance(style, content, eps: float = 1e-6) -> np.ndarray:
    r"""The style's luminance, shifted and scaled to the content's, as a grey RGB image.

    Gatys et al. (2017), section 5.1: before luminance-only transfer, match the style's
    luminance histogram to the content's to first order,

    .. math:: Y_s' = \frac{\sigma_c}{\sigma_s} (Y_s - \mu_s) + \mu_c ,

    so that a dark painting does not darken a bright photo. Returns (H, W, 3) float32 in
    [0, 1], the size of ``style``.
    """
    y_style = luminance(style).astype(np.float64)
    y_content = luminance(content).astype(np.float64)
    scale = y_content.std() / max(y_style.std(), eps)
    matched = (y_style - y_style.mean()) * scale + y_content.mean()
    return _grey(matched)


def luminance_only_inputs(content, styles) -> tuple[np.ndarray, list[np.ndarray]]:
    """The grey content and grey, luminance-matched styles of luminance-only transfer.

    ``styles`` is one image or a list; returns ``(content_grey, [style_grey, ...])``, each
    (H, W, 3) float32. Stylize those, then put back the photo's colours with
    :func:`transfer_luminance`.
    """
    styles = list(styles) if isinstance(styles, list | tuple) else [styles]
    return grey_rgb(content), [match_luminance(style, content) for style in styles]


def _sqrtm_psd(matrix: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Square root (or inverse square root) of a symmetric positive definite matrix."""
    values, vectors = np.linalg.eigh(matrix)
    values = np.maximum(values, 1e-12)
    roots = values ** (-0.5 if inverse else 0.5)
    return (vectors * roots) @ vectors.T


def _color_transform(cov_source: np.ndarray, cov_reference: np.ndarray, mode: str) -> np.ndarray:
    """A 3x3 matrix ``A`` with ``A @ cov_source @ A.T == cov_reference``."""
    if mode == "cholesky":
        # cov = L L^T for both; A = L_ref L_src^-1.
        lower_source = np.linalg.cholesky(cov_source)
        lower_reference = np.linalg.cholesky(cov_reference)
        return lower_reference @ np.linalg.inv(lower_source)
    if mode == "pca":
        # Whiten along the source's principal axes, then colour along the reference's.
        values_s, vectors_s = np.linalg.eigh(cov_source)
        values_r, vectors_r = np.linalg.eigh(cov_reference)
        return (vectors_r * np.sqrt(values_r)) @ (vectors_s / np.sqrt(values_s)).T
    if mode == "sym":
        # The symmetric solution (the one Gatys et al. 2017 use, from Hertzmann's
        # image analogies): A = S^-1/2 (S^1/2 R S^1/2)^1/2 S^-1/2, S, R the covariances.
        root = _sqrtm_psd(cov_source)
        inverse_root = _sqrtm_psd(cov_source, inverse=True)
        return inverse_root @ _sqrtm_psd(root @ cov_reference @ root) @ inverse_root
    raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(COLOR_MATCH_MODES)}")


def match_color_statistics(source, reference, mode: str = "cholesky", *,
                           clip: bool = True, eps: float = 1e-5) -> np.ndarray:
    r"""Recolour ``source`` so its pixels have the mean and covariance of ``reference``'s.

    The colour transfer of Gatys et al. (2017), section 5.2: treat every pixel as a point
    :math:`x \in \mathbb{R}^3`; with :math:`\mu_s, \Sigma_s` the mean and 3x3 covariance of
    the source's pixels and :math:`\mu_r, \Sigma_r` the reference's, map

    .. math:: x' = A (x - \mu_s) + \mu_r, \qquad A \Sigma_s A^\top = \Sigma_r .

    Many matrices ``A`` satisfy that; ``mode`` chooses one:

    * ``"cholesky"``: :math:`A = L_r L_s^{-1}` from the Cholesky factors
      :math:`\Sigma = L L^\top`;
    * ``"pca"``: :math:`A = Q_r \Lambda_r^{1/2} \Lambda_s^{-1/2} Q_s^\top` from the
      eigendecompositions :math:`\Sigma = Q \Lambda Q^\top`;
    * ``"sym"``: the symmetric solution
      :math:`A = \Sigma_s^{-1/2} (\Sigma_s^{1/2} \Sigma_r \Sigma_s^{1/2})^{1/2} \Sigma_s^{-1/2}`.

    For colour preservation, ``source`` is the *style* image and ``reference`` the
    content photo: the painting gets the photo's colours before you stylize with it.

    Parameters
    ----------
    source, reference : array
        Float images (H, W, 3) in [0, 1]; their sizes may differ.
    mode : {"cholesky", "pca", "sym"}
        Which of the linear maps above (default ``"cholesky"``).
    clip : bool
        Clip the result to [0, 1] (default). Clipping moves the statistics a little when
        some pixels fall outside; ``clip=False`` keeps them exact.
    eps : float
        Added to the diagonal of both covariances so flat (single-colour) images work.

    Returns
    -------
    float32 array shaped like ``source``.
    """
    if mode not in COLOR_MATCH_MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(COLOR_MATCH_MODES)}")
    source = _rgb(source, "source")
    reference = _rgb(reference, "reference")
    x_source = source.reshape(-1, 3).astype(np.float64)
    x_reference = reference.reshape(-1, 3).astype(np.float64)
    mean_source, mean_reference = x_source.mean(axis=0), x_reference.mean(axis=0)
    ridge = eps * np.eye(3)
    cov_source = np.cov(x_source, rowvar=False, bias=True) + ridge
    cov_reference = np.cov(x_reference, rowvar=False, bias=True) + ridge
    transform = _color_transform(cov_source, cov_reference, mode)
    matched = (x_source - mean_source) @ transform.T + mean_reference
    matched = matched.reshape(source.shape).astype(np.float32)
    return np.clip(matched, 0.0, 1.0) if clip else matched


def shift_mean_color(image, toward, weights=None) -> np.ndarray:
    """``image`` plus one constant colour, so its mean colour becomes ``toward``'s.

    ``toward`` is an image or a list of images; with several, their mean colours are
    averaged with ``weights`` (default equal). Shading, edges and the differences between
    colours are kept: every pixel moves by the same RGB offset, and the result is clipped
    to [0, 1] (so a pixel already at 1 stays there and the mean lands a little short).

    This is :func:`nstlab.stylize`'s default starting image (``init="tinted"``). A style
    loss wants the painting's colours; from the photo as it is, L-BFGS spends several
    steps shifting the whole palette (a night photo towards a bright Matisse took 17
    network evaluations to the TensorFlow tutorial's 100-step loss, 10 from the tinted
    photo; benchmarks/README.md).

    >>> night = np.full((4, 4, 3), 0.1, np.float32)
    >>> shift_mean_color(night, np.full((2, 2, 3), 0.6, np.float32))[0, 0]
    array([0.6, 0.6, 0.6], dtype=float32)
    """
    image = _rgb(image)
    images = list(toward) if isinstance(toward, list | tuple) else [toward]
    if weights is None:
        weights = [1.0] * len(images)
    weights = np.asarray(weights, dtype=np.float64)
    if len(weights) != len(images) or not np.all(weights >= 0) or weights.sum() <= 0:
        raise ValueError(f"need one weight >= 0 per image (not all 0), got {list(weights)}")
    means = np.stack([_rgb(other, "toward").reshape(-1, 3).mean(axis=0) for other in images])
    target = weights @ means / weights.sum()
    offset = target - image.reshape(-1, 3).mean(axis=0)
    return np.clip(image + offset, 0.0, 1.0).astype(np.float32)


def denoise(image, strength: float = 0.1, *, radius: int = 2,
            method: str = "bilateral") -> np.ndarray:
    """Smooth away fine speckle in a finished image.

    Optimised images often keep a fine, high-frequency grain. Two simple filters:

    * ``"bilateral"`` (default): an edge-preserving blur. Each pixel becomes a weighted
      mean of the pixels within ``radius`` of it; a neighbour's weight falls off with its
      distance (a Gaussian of width ``radius / 2``) *and* with how different its colour
      is (a Gaussian of width ``strength``, in [0, 1] pixel units). Neighbours across an
      edge differ a lot in colour, get almost no weight, and so edges stay sharp while
      small wiggles are averaged out. ``strength=0`` returns the image unchanged; about
      0.1 removes grain; large values (1 or more) approach a plain Gaussian blur.
    * ``"median"``: each channel's median over a ``(2 * radius + 1)`` square window
      (``scipy.ndimage.median_filter``); removes isolated specks. ``strength`` in [0, 1]
      blends between the image (0) and the fully filtered image (1).

    Returns a float32 (H, W, 3) image in [0, 1].
    """
    pixels = np.clip(_rgb(image), 0.0, 1.0)
    if strength < 0 or not np.isfinite(strength):
        raise ValueError(f"strength must be a finite number >= 0, got {strength!r}")
    if int(radius) != radius or radius < 1:
        raise ValueError(f"radius must be a whole number >= 1, got {radius!r}")
    radius = int(radius)
    if strength == 0:
        return pixels.copy()
    if method == "median":
        from scipy import ndimage

        size = 2 * radius + 1
        filtered = ndimage.median_filter(pixels, size=(size, size, 1), mode="reflect")
        amount = min(float(strength), 1.0)
        return ((1 - amount) * pixels + amount * filtered).astype(np.float32)
    if method != "bilateral":
        raise ValueError(f"unknown method {method!r}; choose 'bilateral' or 'median'")
    height, width = pixels.shape[:2]
    padded = np.pad(pixels, ((radius, radius), (radius, radius), (0, 0)), mode="reflect")
    sigma_space = radius / 2.0
    total = np.zeros_like(pixels)
    weights = np.zeros((height, width, 1), dtype=np.float32)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            neighbour = padded[radius + dy:radius + dy + height, radius + dx:radius + dx + width]
            spatial = np.exp(-(dy * dy + dx * dx) / (2 * sigma_space**2))
            difference = np.sum((neighbour - pixels) ** 2, axis=-1, keepdims=True)
            weight = spatial * np.exp(-difference / (2 * float(strength) ** 2))
            total += weight * neighbour
            weights += weight
    return np.clip(total / weights, 0.0, 1.0).astype(np.float32)


def srgb_to_linear(image) -> np.ndarray:
    """Decode sRGB pixel values to linear light (proportional to the light's energy).

    Image files store gamma-encoded values (IEC 61966-2-1): half the stored value is about a
    fifth of the light. ``c / 12.92`` below 0.04045, else ``((c + 0.055) / 1.055) ** 2.4``.
    """
    pixels = np.clip(_rgb(image), 0.0, 1.0).astype(np.float64)
    return np.where(pixels <= 0.04045, pixels / 12.92,
                    ((pixels + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(linear) -> np.ndarray:
    """Encode linear light as sRGB pixel values: the inverse of :func:`srgb_to_linear`."""
    light = np.clip(_rgb(linear, "linear"), 0.0, 1.0).astype(np.float64)
    return np.where(light <= 0.0031308, 12.92 * light,
                    1.055 * light ** (1 / 2.4) - 0.055).astype(np.float32)


def blend_linear_light(photo, picture, strength: float) -> np.ndarray:
    """Mix ``strength`` of ``picture`` with ``1 - strength`` of ``photo``, in linear light.

    Mixing the light, not the stored values, is what a double exposure or a half-silvered
    mirror does: a bright stroke over a dark photo stays as bright as half of each, where
    averaging sRGB values darkens the mix. Measured with nstlab's Starry Night model at
    512 px on two photos (``benchmarks/README.md``), the linear-light mix kept more of the
    photo's structure at the same style loss than the sRGB mix at half and three-quarter
    strength. ``strength`` 0 returns the photo, 1 the picture; the two must have the same
    shape.
    """
    photo, picture = _rgb(photo, "photo"), _rgb(picture, "picture")
    if photo.shape != picture.shape:
        raise ValueError(f"photo {photo.shape} and picture {picture.shape} differ in shape")
    strength = float(strength)
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength!r}")
    if strength in (0.0, 1.0):
        return np.clip(picture if strength else photo, 0.0, 1.0).astype(np.float32)
    mixed = (1 - strength) * srgb_to_linear(photo) + strength * srgb_to_linear(picture)
    return linear_to_srgb(mixed)
