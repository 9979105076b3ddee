"""Sliders for the weights: try alpha/beta, total variation and each style layer's weight.

>>> explorer = nstlab.lab.explorer.explore(photo, painting)              # doctest: +SKIP

In Jupyter this shows sliders and a **Stylize** button. Each press runs a short style
transfer (``steps`` L-BFGS steps at ``size`` px) with the weights the sliders show, then draws
the image next to the inputs and the per-layer losses of the run. Every run is kept, with
its settings, in ``explorer.results``, so you can compare them afterwards.

* **alpha/beta** (log scale): the ratio of the content weight to the style weight. The
  content weight stays at its default; the style weight is ``content_weight / ratio``.
* **TV weight** (log scale): smoothness (a log slider cannot reach 0; use
  ``nstlab.stylize(..., tv_weight=0)`` for none).
* **one slider per style layer**: its relative weight (``style_layer_weights``, normalised
  to sum to 1 by ``stylize``). Set a layer to 0 to switch it off.

Outside Jupyter, or without ipywidgets, :func:`explore` prints how to do the same with
:func:`nstlab.stylize` and returns ``None``.
"""

from __future__ import annotations

import time

import numpy as np

from nstlab.base.jupyter import in_notebook
from nstlab.engine import losses
from nstlab.imaging.images import load_image

__all__ = ["Explorer", "explore"]

HINT = ("The explorer needs Jupyter with ipywidgets (pip install ipywidgets). The same from "
        "code: nstlab.stylize(content, style, size=128, steps=30, style_weight=..., "
        "tv_weight=..., style_layer_weights={...})")


def _ipywidgets():
    """The ipywidgets module, or None when it is not installed."""
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


class Explorer:
    """Sliders, a Stylize button and an output area for short style-transfer runs.

    Build it with :func:`explore` in a notebook (which also shows it). Constructing it
    directly works anywhere ipywidgets is installed, which is how the tests drive it:
    set the sliders' ``.value`` and call :meth:`run`.

    Parameters
    ----------
    content, style : image
        Anything :func:`nstlab.load_image` accepts; loaded once.
    size : int
        Longest side of the results in pixels (small keeps each run short).
    steps : int
        Initial value of the steps slider.
    **stylize_options
        Passed on to every :func:`nstlab.stylize` call (``optimizer``, ``style_layers``,
        ``content_weight``, ``seed``, ...).

    Attributes
    ----------
    ratio, tv_weight, steps : ipywidgets sliders
    layer_weights : dict layer name -> ipywidgets.FloatSlider
    run_button : ipywidgets.Button
    status : ipywidgets.Label
        One line: what is running, the last result, or what went wrong.
    output : ipywidgets.Output
        Where the figures are drawn.
    result : nstlab.Result or None
        The last successful run.
    results : list of (settings, Result)
        Every successful run, oldest first.
    figures : tuple of matplotlib figures
        The last images figure and per-layer loss figure.
    widget : ipywidgets.VBox
        Everything, ready for ``display``.
    """

    def __init__(self, content, style, *, size: int = 128, steps: int = 30,
                 **stylize_options):
        widgets = _ipywidgets()
        if widgets is None:
            raise ImportError(HINT)
        self.content = load_image(content)
        self.style = load_image(style)
        self.size = int(size)
        self.options = dict(stylize_options)
        self.content_weight = float(self.options.pop("content_weight",
                                                    losses.DEFAULT_CONTENT_WEIGHT))
        layers = list(self.options.pop("style_layers", None) or losses.DEFAULT_STYLE_LAYERS)
        default_ratio = losses.DEFAULT_CONTENT_WEIGHT / losses.DEFAULT_STYLE_WEIGHT
        slider_style = {"description_width": "110px"}
        self.ratio = widgets.FloatLogSlider(
            value=default_ratio, base=10, min=-1, max=5, step=0.25, description="alpha/beta",
            readout_format=".3g", continuous_update=False, style=slider_style)
        self.tv_weight = widgets.FloatLogSlider(
            value=losses.DEFAULT_TV_WEIGHT, base=10, min=-3, max=3, step=0.5,
            description="TV weight", readout_format=".3g", continuous_update=False,
            style=slider_style)
        self.steps = widgets.IntSlider(value=int(steps), min=1, max=max(200, int(steps)),
                                       description="steps", continuous_update=False,
                                       style=slider_style)
        self.layer_weights = {
            name: widgets.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description=name,
                                      continuous_update=False, style=slider_style)
            for name in layers}
        self.run_button = widgets.Button(description="Stylize", button_style="primary",
                                         tooltip="run a short style transfer with these weights")
        self.run_button.on_click(lambda _button: self.run())
        self.status = widgets.Label(value="Move the sliders, then press Stylize.")
        self.output = widgets.Output()
        self.result = None
        self.results: list = []
        self.figures: tuple = ()
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.ratio, self.tv_weight, self.steps]),
                          widgets.VBox(list(self.layer_weights.values()))]),
            widgets.HBox([self.run_button, self.status]),
            self.output,
        ])

    def settings(self) -> dict:
        """The :func:`nstlab.stylize` keyword arguments the sliders stand for now."""
        return {
            **self.options,
            "size": self.size,
            "steps": int(self.steps.value),
            "content_weight": self.content_weight,
            "style_weight": self.content_weight / float(self.ratio.value),
            "tv_weight": float(self.tv_weight.value),
            "style_layers": list(self.layer_weights),
            "style_layer_weights": {name: float(slider.value)
                                    for name, slider in self.layer_weights.items()},
        }

    def run(self):
        """Stylize with the current settings, show the result, and return the Result.

        Returns ``None`` (and says why in :attr:`status`) when the settings cannot run; the
        previous result stays.
        """
        from nstlab.run.transfer import stylize

        settings = self.settings()
        if not any(settings["style_layer_weights"].values()):
            self.status.value = "Give at least one style layer a weight above 0."
            return None
        self.run_button.disabled = True
        self.status.value = f"Stylizing: {settings['steps']} steps at {self.size} px ..."
        start = time.perf_counter()
        try:
            result = stylize(self.content, self.style, progress=False, **settings)
        except Exception as error:  # a widget callback has nowhere to show a traceback
            self.status.value = f"Could not stylize: {type(error).__name__}: {error}"
            return None
        finally:
            self.run_button.disabled = False
        self.result = result
        self.results.append((settings, result))
        self._draw(result, settings)
        self.status.value = (f"Run {len(self.results)}: alpha/beta {self.ratio.value:.3g}, "
                             f"final loss {result.history.total[-1]:.4g}, "
                             f"{time.perf_counter() - start:.1f} s")
        return result

    def _draw(self, result, settings) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import clear_output, display

        from nstlab.imaging.images import resize_image
        from nstlab.lab.viz import plot_layer_losses, show_images

        images = show_images({"content": resize_image(self.content, self.size),
                              "style": resize_image(self.style, self.size),
                              f"alpha/beta = {self.ratio.value:.3g}": result.image}, size=3)
        curves = plot_layer_losses(result.history, title="this run, layer by layer")
        self.figures = (images, curves)
        with self.output:
            clear_output(wait=True)
            for figure in self.figures:
                display(figure)
        for figure in self.figures:
            plt.close(figure)  # shown once in the output area, not again at the cell's end

    def __repr__(self) -> str:
        last = ""
        if self.result is not None:
            last = f", last final loss {np.asarray(self.result.history.total)[-1]:.4g}"
        return f"Explorer({self.size} px, {len(self.results)} runs{last})"


def explore(content, style, *, size: int = 128, steps: int = 30, **stylize_options):
    """Show sliders for the weights and a button that runs a short style transfer.

    Parameters
    ----------
    content, style : image
        Anything :func:`nstlab.load_image` accepts.
    size : int
        Longest side of each run's result in pixels.
    steps : int
        Initial number of L-BFGS steps a press runs.
    **stylize_options
        Passed on to :func:`nstlab.stylize` every time (``seed``, ``optimizer``, ...).

    Returns
    -------
    Explorer or None
        The :class:`Explorer` (its ``.results`` keep every run), or ``None`` with a printed
        hint outside Jupyter or without ipywidgets.
    """
    if _ipywidgets() is None or not in_notebook():
        print(HINT)
        return None
    from IPython.display import display

    explorer = Explorer(content, style, size=size, steps=steps, **stylize_options)
    display(explorer.widget)
    return explorer
