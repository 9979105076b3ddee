"""Style images drawn by code: swirling brush strokes and stained glass, with plain numpy.

``generated_style("swirl")`` and ``generated_style("mosaic")`` need no file and no network,
so they are the zero-dependency demo (``nstlab demo``) and a reference texture for tests.
``nstlab.imaging.data.load_sample("swirl")`` gives the same pictures.

Both styles are drawn on a periodic canvas (what leaves one edge comes back at the other).
Every length below is defined for a 256 px image and scaled with the size, so a 512 px image
shows the same picture with more detail rather than twice as many, half as big, strokes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GENERATED_STYLES", "generated_style"]

#: The kinds of style image :func:`generated_style` can draw.
GENERATED_STYLES: tuple[str, ...] = ("swirl", "mosaic")


def _value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth, tileable noise in [0, 1]: random values on a ``cells`` grid, interpolated."""
    cells = max(1, min(cells, size))
    grid = rng.random((cells, cells), dtype=np.float32)
    t = (np.arange(size, dtype=np.float32) + 0.5) * (cells / size)
    i0 = np.floor(t).astype(np.intp)
    f = t - i0
    f = f * f * (3 - 2 * f)  # smoothstep: no visible grid lines
    i0 %= cells
    i1 = (i0 + 1) % cells
    rows = grid[i0] * (1 - f)[:, None] + grid[i1] * f[:, None]
    return rows[:, i0] * (1 - f) + rows[:, i1] * f


def _fractal_noise(rng: np.random.Generator, size: int, cells: int, octaves: int) -> np.ndarray:
    """Sum of value noise at ``octaves`` scales (each twice as fine, half as strong), in [0, 1]."""
    total = np.zeros((size, size), np.float32)
    amplitude = 1.0
    for _ in range(octaves):
        total += amplitude * _value_noise(rng, size, cells)
        amplitude /= 2
        cells *= 2
    return total / (2 - 2 * amplitude)


def _standardize(a: np.ndarray) -> np.ndarray:
    return (a - a.mean()) / (a.std() + 1e-8)


def _palette(t: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] to colours by blending between the rows of ``colors``."""
    x = np.clip(t, 0, 1) * (len(colors) - 1)
    stops = np.arange(len(colors))
    return np.stack([np.interp(x, stops, colors[:, c]) for c in range(3)], axis=-1)


def _wrap_pad(a: np.ndarray) -> np.ndarray:
    """Flatten a square image with one extra wrapped row and column, for bilinear lookups."""
    return np.pad(a, ((0, 1), (0, 1)), mode="wrap").ravel()


def _wrap(a: np.ndarray, n: int) -> np.ndarray:
    """Wrap positions in ``(-n, 2n)`` back into ``[0, n)`` (the canvas is periodic)."""
    a = np.where(a < 0, a + n, a)
    return np.where(a >= n, a - n, a)  # also catches -tiny + n rounding up to exactly n


def _bilinear(flat_images: list[np.ndarray], n: int, y: np.ndarray, x: np.ndarray):
    """Sample padded images (see ``_wrap_pad``) at float positions ``0 <= y, x < n``."""
    y0 = np.floor(y)
    x0 = np.floor(x)
    fy = y - y0
    fx = x - x0
    i = y0.astype(np.intp) * (n + 1) + x0.astype(np.intp)
    j = i + (n + 1)
    out = []
    for img in flat_images:
        a, b, c, d = img.take(i), img.take(i + 1), img.take(j), img.take(j + 1)
        top = a + (b - a) * fx
        out.append(top + (c + (d - c) * fx - top) * fy)
    return out


def _smear_along_flow(vx, vy, images, steps: int, step: float) -> list[np.ndarray]:
    """Line integral convolution: average each image along the streamlines of (vx, vy).

    From every pixel we walk ``steps`` small steps forwards and backwards along the flow and
    average what we pass over. Noise turns into brush strokes that follow the flow.
    """
    n = vx.shape[0]
    flow = [_wrap_pad(vx), _wrap_pad(vy)]
    padded = [_wrap_pad(img) for img in images]
    sums = [img.copy() for img in images]
    weight_sum = 1.0
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32)
    for direction in (step, -step):
        y, x = ys.copy(), xs.copy()
        u, v = vx, vy
        for s in range(1, steps + 1):
            x = _wrap(x + direction * u, n)
            y = _wrap(y + direction * v, n)
            u, v, *values = _bilinear(flow + padded, n, y, x)
            w = 0.5 + 0.5 * np.cos(np.pi * s / (steps + 1))  # fade out towards stroke ends
            for total, value in zip(sums, values, strict=True):
                total += w * value
            weight_sum += w
    return [total / weight_sum for total in sums]


# Night-sky colours: navy, blues, pale blue, then yellows for the stars.
_SWIRL_COLORS = np.array(
    [
        [0.03, 0.07, 0.20],
        [0.07, 0.18, 0.45],
        [0.13, 0.33, 0.68],
        [0.35, 0.58, 0.85],
        [0.70, 0.82, 0.85],
        [0.96, 0.87, 0.38],
        [0.95, 0.68, 0.18],
    ],
    dtype=np.float32,
)


def _swirl(size: int, rng: np.random.Generator) -> np.ndarray:
    n = size
    scale = n / 256
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n

    # 1. A swirling flow: the curl of a "stream function" psi made of smooth noise plus a few
    #    vortices (Gaussian bumps). The flow runs along the contour lines of psi.
    psi = 0.5 * _fractal_noise(rng, n, cells=3, octaves=3)
    stars = np.zeros((n, n), np.float32)
    count = 5
    centers = rng.random((count, 2))
    radii = rng.uniform(0.07, 0.17, count)
    spins = rng.choice([-1.0, 1.0], count)
    for (cy, cx), radius, spin in zip(centers, radii, spins, strict=True):
        dy = (yy - cy + 0.5) % 1 - 0.5  # distances on the periodic canvas
        dx = (xx - cx + 0.5) % 1 - 0.5
        r2 = (dx * dx + dy * dy) / radius**2
        psi += spin * 0.35 * np.exp(-0.5 * r2)
        stars += np.exp(-1.2 * r2)
    stars = np.clip(stars, 0, 1)
    dpsi_dy, dpsi_dx = np.gradient(psi)
    speed = np.hypot(dpsi_dx, dpsi_dy) + 1e-8
    vx = (dpsi_dy / speed).astype(np.float32)
    vy = (-dpsi_dx / speed).astype(np.float32)

    # 2. Colour plan: blue sky with bright stars, and bands of colour that circle the vortices.
    bands = np.sin(2 * np.pi * 7 * psi).astype(np.float32)
    tone = 0.22 + 0.42 * _fractal_noise(rng, n, cells=4, octaves=2) + 0.55 * stars + 0.06 * bands

    # 3. Paint: thick dabs (blobs about 2.5 px wide) and fine bristle noise, smeared along
    #    the flow into strokes about 20 px long.
    grain = max(1.0, 2.5 * scale)
    dabs = (_value_noise(rng, n, round(n / grain)) > 0.5).astype(np.float32)
    bristles = _value_noise(rng, n, min(n, 256))
    tone, dabs, bristles = _smear_along_flow(
        vx, vy, [tone.astype(np.float32), dabs, bristles], steps=8, step=1.35 * scale
    )
    strokes = np.tanh(1.5 * _standardize(dabs))
    bristles = _standardize(bristles)

    t = tone + 0.1 * strokes + 0.025 * bristles + 0.08 * bands * stars
    image = _palette(t, _SWIRL_COLORS)
    return image * (1.0 + 0.14 * strokes + 0.05 * bristles)[..., None]


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Convert hue/saturation/value arrays (all in [0, 1]) to an RGB array."""
    h6 = (h % 1.0) * 6.0
    k = np.stack([(5 + h6) % 6, (3 + h6) % 6, (1 + h6) % 6], axis=-1)
    return v[..., None] - (v * s)[..., None] * np.clip(np.minimum(k, 4 - k), 0, 1)


def _voronoi(rng: np.random.Generator, n: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Tileable Voronoi cells from one random seed point per square of a ``cells`` grid.

    Returns, for every pixel, the id of its cell and its distance in pixels to the cell
    border. Only the 3 x 3 neighbouring squares are searched for the nearest seed point.
    """
    side = n / cells
    jitter = rng.uniform(0.15, 0.85, (cells, cells, 2))
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) + 0.5
    gy = np.floor(yy / side).astype(np.intp)
    gx = np.floor(xx / side).astype(np.intp)

    def neighbours():
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                cy, cx = gy + dy, gx + dx
                wy, wx = cy % cells, cx % cells
                py = ((cy + jitter[wy, wx, 0]) * side).astype(np.float32)
                px = ((cx + jitter[wy, wx, 1]) * side).astype(np.float32)
                yield wy * cells + wx, py, px

    # Pass 1: the nearest seed point.
    best = np.full((n, n), np.inf, np.float32)
    cell_id = np.zeros((n, n), np.intp)
    ny, nx = np.zeros_like(yy), np.zeros_like(xx)
    for ids, py, px in neighbours():
        d2 = (py - yy) ** 2 + (px - xx) ** 2
        closer = d2 < best
        best = np.where(closer, d2, best)
        cell_id = np.where(closer, ids, cell_id)
        ny, nx = np.where(closer, py, ny), np.where(closer, px, nx)
    # Pass 2: distance to the border with each other seed (the perpendicular bisector).
    border = np.full((n, n), np.inf, np.float32)
    for _, py, px in neighbours():
        gap = np.hypot(py - ny, px - nx)
        d2 = (py - yy) ** 2 + (px - xx) ** 2
        dist = (d2 - best) / (2 * np.maximum(gap, 1e-6))
        border = np.minimum(border, np.where(gap > 1e-6, dist, np.inf))
    return cell_id, border


# Stained-glass hues: reds, amber, yellow, greens, turquoise, blues, violet, magenta.
_GLASS_HUES = np.array([0.0, 0.04, 0.11, 0.15, 0.33, 0.45, 0.55, 0.62, 0.75, 0.85])


def _mosaic(size: int, rng: np.random.Generator) -> np.ndarray:
    n = size
    scale = n / 256

    # 1. Panes at two scales: big Voronoi cells, about half of them split into small ones.
    coarse, fine = 6, 14
    big_id, big_border = _voronoi(rng, n, coarse)
    small_id, small_border = _voronoi(rng, n, fine)
    split = (rng.random(coarse * coarse) < 0.5)[big_id]
    pane = np.where(split, coarse * coarse + big_id * fine * fine + small_id, big_id)
    border = np.where(split, np.minimum(big_border, small_border), big_border)
    _, pane = np.unique(pane, return_inverse=True)
    pane = pane.reshape(n, n)
    count = int(pane.max()) + 1

    # 2. One saturated colour per pane.
    hue = rng.choice(_GLASS_HUES, count) + rng.normal(0, 0.015, count)
    saturation = rng.uniform(0.7, 1.0, count)
    value = rng.uniform(0.65, 1.0, count)
    angle = rng.uniform(0, 2 * np.pi, count)
    ripples = rng.uniform(18, 30, count)

    # 3. Glass texture: a brightness gradient, mottling, and wavy streaks in each pane.
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    cos, sin = np.cos(angle)[pane], np.sin(angle)[pane]
    gradient = 2 * (cos * xx + sin * yy)
    gradient -= gradient.mean()
    mottle = _fractal_noise(rng, n, cells=16, octaves=3) - 0.5
    streaks = np.sin(2 * np.pi * (ripples[pane] * (cos * yy - sin * xx) + 3 * mottle))
    shade = 0.85 + 0.18 * gradient + 0.35 * mottle + 0.07 * streaks
    brightness = np.clip(value[pane] * shade, 0, 1)
    brightness *= 0.75 + 0.25 * np.clip(border / (10 * scale), 0, 1)  # darker near the lead
    glass = _hsv_to_rgb(hue[pane], saturation[pane] * (0.9 + 0.2 * mottle), brightness)

    # 4. Dark lead lines (about 3 px wide) with a faint highlight, softly anti-aliased.
    lead_half_width = 1.6 * scale
    lead = 0.05 + 0.1 * np.clip(1 - border / lead_half_width, 0, 1)
    cover = np.clip((border - lead_half_width) / scale, 0, 1)
    return glass * cover[..., None] + (lead * (1 - cover))[..., None]


def generated_style(kind: str = "swirl", size: int = 256, seed: int = 0) -> np.ndarray:
    """Draw a colourful style image with numpy, no download needed.

    Args:
        kind: ``"swirl"`` - swirling brush strokes in night blues and star yellows, in the
            spirit of Van Gogh; or ``"mosaic"`` - stained glass: saturated panes of several
            sizes with dark lead lines.
        size: Side of the square image in pixels.
        seed: Random seed. The same seed always gives the same picture; try others for
            variations.

    Returns:
        An RGB ``float32`` array of shape ``(size, size, 3)`` with values in ``[0, 1]``.
        The swirl tiles seamlessly; the mosaic's panes do too, but their shading jumps at
        the edges.

    Example:
        >>> generated_style("mosaic", size=64, seed=3).shape
        (64, 64, 3)
    """
    if kind not in GENERATED_STYLES:
        raise ValueError(f"unknown generated style {kind!r}; "
                         f"choose one of: {', '.join(GENERATED_STYLES)}")
    if int(size) != size or size < 8:
        raise ValueError(f"size must be an integer of at least 8 pixels, got {size!r}")
    rng = np.random.default_rng(seed)
    draw = _swirl if kind == "swirl" else _mosaic
    image = draw(int(size), rng)
    return np.clip(image, 0, 1).astype(np.float32)
