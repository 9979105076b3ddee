"""How much style, and from which layers? The grid of Gatys et al. (2016), Fig. 4.

Two choices shape a result more than any other:

* the **ratio** ``alpha / beta`` of the content weight to the style weight: small ratios give
  the painting's texture everywhere, large ones keep the photo;
* the **depth** of the style layers: matching Gram matrices on ``block1_conv1`` alone copies
  colours and fine grain; adding deeper layers brings larger structures of the painting
  (brush strokes, swirls), which also reshape the photo's objects more.

:func:`ratio_depth_grid` runs one style transfer for every pair (rows: growing sets of style
layers, columns: ratios) and draws them as one figure, like the paper's Fig. 4. It also
measures every result's *unweighted* distances to the photo's features and to the painting's
Gram matrices, so the trade-off can be read as numbers too.

Ratios here are in nstlab's convention (see :mod:`nstlab.engine.losses`); the paper's
``1e-5 ... 1e-2`` are in another normalisation (notebook 04 converts between them). nstlab's
default is ``1e4 / 100 = 100``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nstlab.engine import losses
from nstlab.engine.history import layer_parts
from nstlab.imaging.images import load_image, resize_image
from nstlab.lab.reconstruct import named_layer_sets

__all__ = ["DEFAULT_RATIOS", "RatioDepthGrid", "ratio_depth_grid"]

#: Columns of the grid: alpha / beta from "mostly painting" to "mostly photo".
DEFAULT_RATIOS = (1.0, 10.0, 100.0, 1000.0)
DEFAULT_STEPS = 50


class RatioDepthGrid(dict):
    """A dict ``{(layer set name, ratio): image (H, W, 3) float32 in [0, 1]}``.

    Attributes
    ----------
    rows : dict set name -> list of style layers
        The style layers of each row, in order.
    ratios : list of float
        The alpha / beta of each column, in order.
    distances : dict (set name, ratio) -> {"content": float, "style": float}
        Unweighted distances of each result: the mean content loss to the photo at the
        content layers, and the mean style loss to the painting over *all* the grid's style
        layers (the same ruler for every row).
    histories : dict (set name, ratio) -> :class:`nstlab.History`
        The per-step losses of each run.
    content, style : np.ndarray
        The two input images after resizing.
    """

    def __init__(self, content: np.ndarray, style: np.ndarray, rows: dict, ratios: list):
        super().__init__()
        self.content = content
        self.style = style
        self.rows = rows
        self.ratios = ratios
        self.distances: dict = {}
        self.histories: dict = {}

    def column(self, ratio: float) -> dict:
        """The images of one ratio, ``{set name: image}``, top to bottom."""
        return {name: self[name, ratio] for name in self.rows}

    def row(self, name: str) -> dict:
        """The images of one layer set, ``{ratio: image}``, left to right."""
        return {ratio: self[name, ratio] for ratio in self.ratios}


def _checked_ratios(ratios) -> list[float]:
    ratios = [float(r) for r in ([ratios] if np.isscalar(ratios) else ratios)]
    if not ratios or not all(np.isfinite(r) and r > 0 for r in ratios):
        raise ValueError(f"ratios must be positive numbers, got {ratios!r}")
    return ratios


def ratio_depth_grid(
    content,
    style,
    *,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    layer_sets=None,
    content_layers=None,
    content_weight: float = losses.DEFAULT_CONTENT_WEIGHT,
    tv_weight: float = losses.DEFAULT_TV_WEIGHT,
    size: int | None = 128,
    steps: int = DEFAULT_STEPS,
    init: str = "content",
    optimizer: str = "lbfgs",
    backbone: str = "vgg16",
    pooling: str = "max",
    seed: int = 0,
    progress: bool = False,
    panel_size: float = 2.0,
    engine=None,
    out_dir=None,
):
    """Stylize for every pair of style-layer set and ratio alpha/beta; draw the grid.

    Gatys et al. (2016), Fig. 4: each row matches the style on a growing set of layers
    (``block1`` alone, then ``block1..block2``, ... ``block1..block5``), each column uses a
    larger ratio of content weight to style weight. Up the rows the textures grow from grain
    to strokes; along the columns the photo comes back.

    Parameters
    ----------
    content, style : image
        A path, PIL image or array (H, W, 3) in [0, 1].
    ratios : list of float
        alpha / beta for each column (default ``1, 10, 100, 1000``; nstlab's default is 100).
        The content weight stays ``content_weight``; the style weight is
        ``content_weight / ratio``.
    layer_sets : list of lists of str, or dict name -> list of str, optional
        The style layers of each row (default: the growing sets of
        :func:`nstlab.lab.reconstruct.default_style_layer_sets`, named ``"block1"``,
        ``"block1..block2"``, ...).
    content_layers : list of str, optional
        Default ``["block4_conv2"]``.
    content_weight, tv_weight : float
        alpha and the total-variation weight, as in :func:`nstlab.stylize`.
    size : int, optional
        Longest side of the images (content and style) in pixels; 128 is enough to see
        the effect. Every cell costs a style transfer at that size.
    steps : int
        L-BFGS (or Adam) steps per cell.
    init : "content" (default) or "noise"
        Where each run starts. The paper starts from white noise, which needs several
        times more steps; from the content, the large ratios stay close to the photo
        sooner.
    optimizer, backbone, pooling, seed, progress
        As in :func:`nstlab.stylize`.
    panel_size : float
        Width of each image in the figure, in inches.
    engine : "in-process", "ray" or a batch engine, optional
        Run the cells as a batch (:func:`nstlab.batch.run`) on this engine, for example
        on a Ray cluster, instead of one after another here. Each cell is then an
        :func:`nstlab.stylize` run with the same losses, steps and start, kept in
        ``out_dir``, so a grid stopped midway resumes.
    out_dir : path, optional
        The batch's results folder (default: a new temporary folder); only with ``engine``.

    Returns
    -------
    (grid, figure)
        ``grid`` is a :class:`RatioDepthGrid` ``{(set name, ratio): image}`` with
        ``grid.distances`` and ``grid.histories``; ``figure`` has one row per layer set and
        one column per ratio.

    Example
    -------
    >>> grid, fig = ratio_depth_grid(photo, painting, ratios=[10, 1000], size=96,
    ...                              steps=30)                        # doctest: +SKIP
    """
    from nstlab.engine.features import FeatureExtractor
    from nstlab.engine.optimize import optimize_pixels
    from nstlab.run.transfer import initial_image, seed_everything

    if init not in ("content", "noise"):
        raise ValueError(f"init must be 'content' or 'noise', got {init!r}")
    ratios = _checked_ratios(ratios)
    rows = named_layer_sets(layer_sets)
    content_layers = list(content_layers or losses.DEFAULT_CONTENT_LAYERS)
    all_style_layers = list(dict.fromkeys(name for layers in rows.values() for name in layers))

    photo = load_image(content)
    painting = load_image(style)
    if size is not None:
        photo, painting = resize_image(photo, int(size)), resize_image(painting, int(size))
    extractor = FeatureExtractor(list(dict.fromkeys(content_layers + all_style_layers)),
                                 backbone, pooling=pooling)
    # Layer weights are normalised to sum to 1; these weights make each one 1 (unweighted).
    ruler = losses.Objective(photo, painting, content_layers=content_layers,
                             style_layers=all_style_layers, content_weight=len(content_layers),
                             style_weight=len(all_style_layers), tv_weight=0.0,
                             extractor=extractor)

    grid = RatioDepthGrid(photo, painting, rows, ratios)
    if engine is not None:
        cells = _cells_as_batch(photo, painting, rows, ratios, engine, out_dir, progress, dict(
            content_layers=content_layers, content_weight=content_weight, tv_weight=tv_weight,
            steps=steps, init=init, optimizer=optimizer, backbone=backbone, pooling=pooling,
            seed=seed))
    for name, layers in rows.items():
        for ratio in ratios:
            if engine is not None:
                image, history = cells[name, ratio]
            else:
                seed_everything(seed)
                objective = losses.Objective(
                    photo, painting, content_layers=content_layers, style_layers=layers,
                    content_weight=content_weight, style_weight=content_weight / ratio,
                    tv_weight=tv_weight, extractor=extractor)
                start = initial_image(init, photo, painting, seed)
                image, history, _ = optimize_pixels(objective, start, steps=steps,
                                                    optimizer=optimizer, progress=progress)
            grid[name, ratio] = image
            grid.histories[name, ratio] = history
            grid.distances[name, ratio] = _distances(ruler, image)
    return grid, _grid_figure(grid, panel_size)


def _cells_as_batch(photo, painting, rows: dict, ratios: list, engine, out_dir, progress: bool,
                    shared: dict) -> dict:
    """Every cell as a job of :func:`nstlab.batch.run`; ``{(row, ratio): (image, history)}``.

    The resized inputs are saved as PNG in ``out_dir/inputs`` (the jobs refer to files);
    each job matches the in-process cell: one scale at the inputs' size, float32.
    """
    import json
    import tempfile
    from pathlib import Path

    from nstlab import batch
    from nstlab.batch import results
    from nstlab.engine.history import History
    from nstlab.imaging.images import save_image

    out_dir = Path(out_dir) if out_dir is not None else Path(
        tempfile.mkdtemp(prefix="nstlab-grid-"))
    inputs = out_dir / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    content_file = save_image(photo, inputs / "content.png")
    style_file = save_image(painting, inputs / "style.png")
    size = max(photo.shape[:2])
    jobs, cells = [], []
    for name, layers in rows.items():
        for ratio in ratios:
            jobs.append({"content": str(content_file), "style": str(style_file),
                         "label": f"{name}, {_ratio_label(ratio)}", "size": size,
                         "scales": None, "precision": "float32", "style_layers": layers,
                         "style_weight": shared["content_weight"] / ratio, **shared})
            cells.append((name, ratio))
    summary = batch.run(jobs, out_dir, engine=engine, progress=progress)
    if summary.failed:
        raise RuntimeError(f"{len(summary.failed)} cells of the grid failed (records in "
                           f"'{out_dir}'): " + "; ".join(
                               f"{label}: {why}" for label, why in summary.failed.items()))
    found = {}
    for cell, job in zip(cells, summary.jobs, strict=True):
        folder = summary.folders[job.label]
        record = json.loads((folder / results.HISTORY_FILE).read_text())
        found[cell] = (load_image(folder / results.IMAGE_FILE),
                       History.from_dict(record["history"]))
    return found


def _distances(ruler: losses.Objective, image: np.ndarray) -> dict[str, float]:
    parts = ruler.evaluate(image)
    return {kind: float(np.mean(list(layer_parts(parts, kind).values())))
            for kind in ("content", "style")}


def _ratio_label(ratio: float) -> str:
    exponent = np.log10(ratio)
    if np.isclose(exponent, round(exponent)):
        return f"α/β = 1e{round(exponent)}"
    return f"α/β = {ratio:g}"


def _grid_figure(grid: RatioDepthGrid, panel_size: float):
    import matplotlib.pyplot as plt

    from nstlab.lab.viz import as_picture

    nrows, ncols = len(grid.rows), len(grid.ratios)
    height, width = grid.content.shape[:2]
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(ncols * panel_size + 0.6,
                                      nrows * panel_size * height / width + 0.5))
    for row, name in enumerate(grid.rows):
        for col, ratio in enumerate(grid.ratios):
            ax = axes[row, col]
            ax.imshow(as_picture(grid[name, ratio]))
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if row == 0:
                ax.set_title(_ratio_label(ratio), fontsize="medium")
            if col == 0:
                ax.set_ylabel(name, fontsize="medium")
    fig.suptitle("style layers (rows) against content/style ratio (columns)")
    return fig
