"""Watch a run as it happens: the current image and the per-layer losses, updated in place.

>>> preview = nstlab.lab.live.LivePreview(every=10)                       # doctest: +SKIP
>>> with preview:                                                     # doctest: +SKIP
...     result = nstlab.stylize(photo, painting, callbacks=[preview])

In a notebook one picture appears under the cell and is redrawn every ``every`` steps (at
most once a second), so the output does not grow and does not flicker. Outside a notebook
(a script, the command line, the tests) the preview does nothing at all.
"""

from __future__ import annotations

import io
import time

import numpy as np

from nstlab.base.jupyter import in_notebook
from nstlab.engine.history import History, layer_parts

__all__ = ["LivePreview"]


def _now() -> float:
    return time.monotonic()


def _display(png: bytes):
    """Show a PNG below the cell; return the handle that replaces it later (``.update``)."""
    from IPython.display import display

    return display(_ipython_image(png), display_id=True)


def _ipython_image(png: bytes):
    from IPython.display import Image

    return Image(data=png, format="png")


def _history_for(parts: dict) -> History:
    """An empty History with the layers named in a step's ``parts``."""
    return History(layer_parts(parts, "content"), layer_parts(parts, "style"))


class LivePreview:
    """A callback that shows the image being optimised and its losses while a run goes on.

    Pass it to :func:`nstlab.stylize` or :func:`nstlab.optimize_pixels` as
    ``callbacks=[LivePreview()]``. In a notebook it draws one figure (the current image on
    the left, :func:`nstlab.lab.viz.plot_layer_losses` on the right) and replaces it in place.
    Outside a notebook it does nothing.

    A step's info does not say how many steps the run will take, so the last steps may not
    be drawn: call :meth:`finish` after the run, or use the preview as a context manager
    (``with LivePreview() as preview: ...``), which draws the final state.

    Parameters
    ----------
    every : int
        Redraw every this many steps (plus once at the first step, so you see it start).
    min_seconds : float
        Never redraw more often than this (drawing takes time away from the run).
    show_losses : bool
        Draw the per-layer loss plot next to the image (False: the image alone).
    history : History, optional
        Plot this history (e.g. the one you pass to ``optimize_pixels(history=...)``)
        instead of recording one from the steps the preview sees.
    size : float
        Height of the figure in inches.

    Attributes
    ----------
    history : History or None
        What the loss plot shows (None until the first step in a notebook).
    redraws : int
        How many times the figure was drawn.
    """

    def __init__(self, every: int = 10, *, min_seconds: float = 1.0, show_losses: bool = True,
                 history: History | None = None, size: float = 4.0):
        if int(every) < 1:
            raise ValueError(f"every must be at least 1, got {every!r}")
        self.every = int(every)
        self.min_seconds = float(min_seconds)
        self.show_losses = bool(show_losses)
        self.history = history
        self.size = float(size)
        self.enabled = in_notebook()
        self.redraws = 0
        self._records = history is None
        self._figure = None
        self._handle = None
        self._last_info = None
        self._drawn_step = None
        self._drawn_at = None

    def __call__(self, info) -> None:
        """Record one step (a :class:`nstlab.StepInfo`) and redraw when it is time."""
        if not self.enabled:
            return None
        if self._records:
            if self.history is None:
                self.history = _history_for(info.parts)
            self.history.append(info.parts, info.total, info.elapsed)
        self._last_info = info
        if self._due(info.step):
            self._draw(info)
        return None

    def _due(self, step: int) -> bool:
        if self._handle is None:
            return True
        rested = _now() - self._drawn_at >= self.min_seconds
        return step % self.every == 0 and rested

    def finish(self) -> None:
        """Draw the last step seen, if it is not on screen yet. Safe to call twice."""
        info = self._last_info
        if self.enabled and info is not None and self._drawn_step != info.step:
            self._draw(info)

    def __enter__(self) -> LivePreview:
        return self

    def __exit__(self, *exc) -> None:
        self.finish()

    def _figure_for(self, image: np.ndarray):
        """The preview's one figure, emptied, and its axes: (image, losses or None)."""
        from matplotlib.figure import Figure

        height, width = image.shape[:2]
        image_top = self.size - 0.55  # room for the two-line title above the image
        image_width = (image_top - 0.1) * width / height
        plot_width = 2.0 * self.size if self.show_losses else 0.0
        inches = (round(image_width + plot_width + 0.2, 3), self.size)
        # Not a pyplot figure: the notebook would otherwise show it a second time. Fixed
        # margins, no layout engine: it keeps each redraw quick.
        if self._figure is None or tuple(self._figure.get_size_inches()) != inches:
            self._figure = Figure(figsize=inches, dpi=80)
        figure = self._figure
        figure.clear()
        total_width, total_height = inches

        def box(left, bottom, right, top):  # inches from the left / bottom edges
            return [left / total_width, bottom / total_height,
                    (right - left) / total_width, (top - bottom) / total_height]

        image_ax = figure.add_axes(box(0.1, 0.1, 0.1 + image_width, image_top))
        if not self.show_losses:
            return image_ax, None
        left = 0.1 + image_width + 0.95  # room for the tick labels and the y label
        loss_ax = figure.add_axes(box(left, 0.55, total_width - 2.1, total_height - 0.35))
        return image_ax, loss_ax

    def _draw(self, info) -> None:
        from nstlab.lab.viz import plot_layer_losses

        image = np.clip(np.asarray(info.image, dtype=np.float32), 0.0, 1.0)
        image_ax, loss_ax = self._figure_for(image)
        image_ax.imshow(image)
        image_ax.set_axis_off()
        image_ax.set_title(f"step {info.step}: loss {info.total:.4g}\n"
                           f"after {info.elapsed:.1f} s", fontsize="medium")
        if loss_ax is not None and self.history is not None:
            plot_layer_losses(self.history, ax=loss_ax, title="loss per layer")
        buffer = io.BytesIO()
        self._figure.savefig(buffer, format="png")
        if self._handle is None:
            self._handle = _display(buffer.getvalue())
        else:
            self._handle.update(_ipython_image(buffer.getvalue()))
        self._drawn_step = info.step
        self._drawn_at = _now()
        self.redraws += 1

    def __repr__(self) -> str:
        state = "active" if self.enabled else "inactive (not in a notebook)"
        return f"LivePreview(every={self.every}, min_seconds={self.min_seconds}, {state})"
