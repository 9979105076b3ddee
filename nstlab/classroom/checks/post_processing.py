"""Checks for the exercises of notebooks 06a and 06b: luminance, keeping colours, colour
matching by hand (06a); coarse to fine, the guided Gram matrix (06b)."""

from __future__ import annotations

import numpy as np

from nstlab.classroom.checks._base import Solver, exercise_check, expect, input_rng
from nstlab.classroom.checks.answers import as_array, expect_gradient
from nstlab.classroom.checks.tiny import TINY, tiny_images

__all__ = [
    "check_keep_colors",
    "check_luminance",
    "check_masked_gram",
    "check_match_colors",
    "check_upsample_and_continue",
]


@exercise_check("luminance", solvers=[
    Solver("nstlab.imaging.color.luminance"),
    Solver("nstlab.imaging.color.rgb_to_yiq",
           why="whose channel 0 is the luminance this exercise asks you to compute"),
])
def check_luminance(luminance):
    """``luminance(image)``: Y = 0.299 R + 0.587 G + 0.114 B, shape (H, W)."""
    from nstlab.imaging import color

    rng = input_rng(6)
    image = rng.uniform(size=(5, 6, 3)).astype(np.float32)
    got = as_array(luminance(image.copy()), "luminance", np.float32)
    want = color.luminance(image)
    if got.shape == (5, 6, 1):
        expect(False, "shape (H, W, 1): return (H, W), one number a pixel (no channel axis)")
    expect(got.shape == want.shape, f"shape {got.shape}, expected (H, W) = {want.shape}")
    if np.allclose(got, image.mean(axis=-1), atol=1e-5):
        expect(False, "that is the plain mean of R, G and B. The eye is most sensitive to "
                      "green and least to blue: weigh them 0.299, 0.587, 0.114.")
    expect(np.allclose(got, want, atol=1e-5),
           f"largest difference from 0.299 R + 0.587 G + 0.114 B is "
           f"{np.max(np.abs(got - want)):.3g}")


@exercise_check("keep_colors", solvers=[Solver("nstlab.imaging.color.transfer_luminance")])
def check_keep_colors(keep_colors):
    """``keep_colors(stylized, content)``: the stylized image's Y with the content's I and Q
    (content resized to the stylized image's size), clipped to [0, 1]."""
    from nstlab.imaging import color
    from nstlab.imaging.images import resize_image

    photo, swirl, _ = tiny_images()
    # Mid-tones, so the recoloured result stays inside [0, 1] and nothing is clipped.
    stylized = (0.25 + 0.5 * resize_image(swirl, photo.shape[:2])).astype(np.float32)
    content = (0.25 + 0.5 * photo).astype(np.float32)
    got = as_array(keep_colors(stylized.copy(), content.copy()), "keep_colors", np.float32)
    expect(got.shape == stylized.shape, f"shape {got.shape}, expected {stylized.shape}")
    expect(got.min() >= -1e-6 and got.max() <= 1 + 1e-6,
           f"values range over [{got.min():.3f}, {got.max():.3f}]: clip to [0, 1]")
    yiq = color.rgb_to_yiq(got)
    y_error = float(np.max(np.abs(yiq[..., 0] - color.luminance(stylized))))
    iq_error = float(np.max(np.abs(yiq[..., 1:] - color.rgb_to_yiq(content)[..., 1:])))
    if y_error > 0.02 and float(np.max(np.abs(yiq[..., 0] - color.luminance(content)))) < 0.02:
        expect(False, "the brightness is the content's: take Y from the stylized image and "
                      "I, Q from the content (not the other way round)")
    expect(y_error <= 0.02, f"the result's luminance differs from the stylized image's by up "
                            f"to {y_error:.3f}: keep Y (channel 0 of YIQ) from `stylized`")
    expect(iq_error <= 0.02, f"the result's colour (I, Q) differs from the content's by up to "
                             f"{iq_error:.3f}: take channels 1 and 2 of YIQ from `content`")
    small = as_array(keep_colors(stylized.copy(), resize_image(content, 48)), "keep_colors",
                     np.float32)
    expect(small.shape == stylized.shape,
           f"with a 48 px content and a {TINY} px stylized image the result has shape "
           f"{small.shape}; resize the content to the stylized image's (height, width) first")


def _color_statistics(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean colour and the 3x3 colour covariance of an image's pixels."""
    pixels = np.asarray(image, np.float64).reshape(-1, 3)
    return pixels.mean(axis=0), np.cov(pixels, rowvar=False)


@exercise_check("colour matching by hand", solvers=[
    Solver("nstlab.imaging.color.match_color_statistics"),
])
def check_match_colors(match_colors):
    """``match_colors(source, reference)``: an affine map of the source's pixels,
    ``A (x - mean_source) + mean_reference`` with ``A cov_source A^T = cov_reference``, not
    clipped: the result has the reference's mean colour and colour covariance."""
    from nstlab.imaging.data import load_sample

    photo, _, _ = tiny_images()
    source = load_sample("starry_night", max_size=TINY)  # full-rank colour covariance
    reference = np.asarray(photo, np.float32)
    kept = source.copy()
    got = as_array(match_colors(source, reference.copy()), "match_colors", np.float64)
    expect(np.array_equal(source, kept), "you changed `source` in place; compute a new array")
    expect(got.shape == source.shape, f"shape {got.shape}, expected the source's {source.shape}")
    from nstlab.imaging.color import match_color_statistics

    exact = match_color_statistics(source, reference, mode="cholesky", clip=False)
    low, high = float(got.min()), float(got.max())
    clipped = np.clip(exact, low, high)
    expect(not (np.allclose(got, clipped, atol=1e-2) and not np.allclose(got, exact, atol=1e-2)),
           f"the result was clipped to [{low:.2f}, {high:.2f}], which moves its mean and "
           "covariance: return A (x - mean_s) + mean_r unclipped")
    mean, cov = _color_statistics(got)
    want_mean, want_cov = _color_statistics(reference)
    expect(np.allclose(mean, want_mean, atol=2e-3),
           f"the mean colour is {np.round(mean, 3)}, the reference's {np.round(want_mean, 3)}: "
           "add the reference's mean after the linear map")
    scale = float(np.abs(want_cov).max())
    if not np.allclose(cov, want_cov, atol=2e-2 * scale):
        source_cov = _color_statistics(source)[1]
        expect(not np.allclose(cov, source_cov, atol=2e-2 * scale),
               "the mean is right but the covariance is still the source's: apply a 3x3 "
               "matrix A = L_r L_s^-1 (np.linalg.cholesky of both covariances)")
        expect(False, "the colour covariance differs from the reference's by up to "
                      f"{np.abs(cov - want_cov).max():.3g} (of {scale:.3g}). Return "
                      "A (x - mean_s) + mean_r, A = L_r L_s^-1.")
    # An affine map of the source's pixels: the result is predicted exactly by them.
    design = np.c_[source.reshape(-1, 3), np.ones(source.size // 3)]
    fit, *_ = np.linalg.lstsq(design, got.reshape(-1, 3), rcond=None)
    residual = float(np.abs(design @ fit - got.reshape(-1, 3)).max())
    expect(residual < 1e-3,
           "the statistics match, but the result is not one affine map of the source's pixels "
           f"(off by up to {residual:.3g}): map every pixel with the same A and means")


def _stylize_resizes_the_start(arguments) -> str | None:
    """For ``initial_image(init, content, ...)``: why an image ``init`` of another shape than
    ``content`` means stylize did the upsampling; None for a start of the right shape."""
    from nstlab.imaging.images import load_image

    init = arguments["init"]
    if isinstance(init, str):
        return None
    start, wanted = load_image(init).shape[:2], arguments["content"].shape[:2]
    if start == wanted:
        return None
    return (f"nstlab.stylize upsampled your {start[1]}x{start[0]} px start image to "
            f"{wanted[1]}x{wanted[0]} px for you: resize it to the shape of the content at "
            "`size` with nstlab.resize_image, then pass that as init.")


def _stylize_goes_coarse_to_fine(arguments) -> str | None:
    """For ``scale_schedule(size, scales)``: why several scales mean stylize did the
    upsampling and continuing itself; None for a single scale."""
    from nstlab.run.transfer import scale_schedule

    sizes = scale_schedule(arguments["size"], arguments["scales"])
    if len(sizes) < 2:
        return None
    return (f"nstlab.stylize went coarse to fine by itself (sizes {sizes}): upsample the "
            "small image yourself and run one scale, scales=None.")


@exercise_check("upsample and continue", solvers=[
    Solver("nstlab.stylize", target="nstlab.run.transfer.initial_image",
           when=_stylize_resizes_the_start),
    Solver("nstlab.stylize", target="nstlab.run.transfer.scale_schedule",
           when=_stylize_goes_coarse_to_fine),
])
def check_upsample_and_continue(upsample_and_continue):
    """``upsample_and_continue(small, content, style, size, steps)``: resize the small result
    to the content at ``size`` and continue stylizing from it.

    The upsampling is the learner's: ``nstlab.stylize`` may not resize the start image
    (``init=small``) or run its own coarse-to-fine (``scales`` with several sizes)."""
    from nstlab.imaging.images import resize_image

    photo, swirl, mosaic = tiny_images()
    small = resize_image(mosaic, 16)  # a start that looks nothing like the photo
    size = 40
    result = upsample_and_continue(small, photo, swirl, size, 2)
    image = as_array(getattr(result, "image", result), "upsample_and_continue", np.float32)
    content = resize_image(photo, size)
    expect(image.shape == content.shape,
           f"shape {image.shape}, expected {content.shape} (the content at size={size})")
    start = resize_image(small, content.shape[:2])
    from_start = float(np.mean(np.abs(image - start)))
    from_content = float(np.mean(np.abs(image - content)))
    expect(from_start < from_content,
           "after 2 steps the result is closer to the content photo than to the upsampled "
           "small image: start from the upsampled image (stylize(..., init=upsampled)).")


@exercise_check("guided Gram matrix", solvers=[Solver("nstlab.engine.losses.masked_gram_matrix")])
def check_masked_gram(masked_gram):
    """``masked_gram(features, mask)``: features (H, W, C), mask (H, W) in [0, 1]; the (C, C)
    matrix ``(F*m)^T (F*m) / sum(m)`` with F reshaped to (H*W, C) and m to (H*W, 1), a tensor
    the gradient flows through back to ``features``."""
    import tensorflow as tf

    from nstlab.engine.losses import masked_gram_matrix

    height, width, channels = 5, 6, 4
    rng = input_rng(22)
    features = rng.uniform(0, 2, (height, width, channels)).astype(np.float32)
    mask = rng.uniform(0, 1, (height, width)).astype(np.float32)  # soft: every mistake shows
    mask[:, : width // 3] = 0.0
    features.setflags(write=False)
    mask.setflags(write=False)
    want = masked_gram_matrix(features[np.newaxis], mask[np.newaxis, ..., np.newaxis])[0]
    want = want.numpy().astype(np.float64)
    got = as_array(masked_gram(features, mask), "masked_gram")
    if got.shape == (1, channels, channels):
        expect(False, f"shape {got.shape}: return ({channels}, {channels}), without a batch axis")
    expect(got.shape == (channels, channels),
           f"for features of shape {features.shape} the result should be ({channels}, "
           f"{channels}), one row and column per channel; got {got.shape}")

    def close(a, b):
        return np.allclose(a, b, rtol=1e-4, atol=1e-5)

    if not close(got, want):
        area, flat = float(mask.sum()), features.reshape(-1, channels).astype(np.float64)
        weights = mask.reshape(-1, 1).astype(np.float64)
        expect(not close(got, want * area), "divide by the area of the region, sum(m)")
        expect(not close(got, want * area / (height * width)),
               "divide by the area of the region, sum(m), not by all H*W positions")
        expect(not close(got, flat.T @ (flat * weights) / area),
               "weight both factors by the mask: (F*m)^T (F*m), not F^T (F*m)")
        expect(not close(got, flat.T @ flat / (height * width)),
               "that is the plain Gram matrix: multiply the features by the mask first")
        expect(False, f"the values differ from (F*m)^T (F*m) / sum(m): entry [0, 1] should be "
                      f"{want[0, 1]:.4f}, yours is {got[0, 1]:.4f}")
    source = tf.constant(features)
    expect_gradient(lambda: masked_gram(source, tf.constant(mask)), {"features": source},
                    "masked_gram(features, mask)")
