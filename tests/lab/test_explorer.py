"""The ipywidgets explorer, driven without a browser: set sliders, press the button."""

import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

import nstlab
from nstlab.engine.losses import DEFAULT_CONTENT_WEIGHT, DEFAULT_STYLE_LAYERS
from nstlab.lab import explorer as explorer_module
from nstlab.lab.explorer import HINT, Explorer, explore


@pytest.fixture
def explorer(photo_64, starry_64):
    return Explorer(photo_64, starry_64, size=40, steps=2, seed=1)


def test_sliders_map_to_stylize_settings(explorer):
    explorer.ratio.value = 1000.0
    explorer.tv_weight.value = 10.0
    explorer.layer_weights["block5_conv1"].value = 0.0
    settings = explorer.settings()
    assert settings["content_weight"] == DEFAULT_CONTENT_WEIGHT
    assert settings["style_weight"] == pytest.approx(DEFAULT_CONTENT_WEIGHT / 1000.0)
    assert settings["tv_weight"] == pytest.approx(10.0)
    assert settings["style_layers"] == list(DEFAULT_STYLE_LAYERS)
    assert settings["style_layer_weights"]["block5_conv1"] == 0.0
    assert settings["style_layer_weights"]["block1_conv1"] == 1.0
    assert settings["size"] == 40 and settings["steps"] == 2 and settings["seed"] == 1


def test_default_sliders_are_the_package_defaults(explorer):
    settings = explorer.settings()
    assert settings["style_weight"] == pytest.approx(nstlab.engine.losses.DEFAULT_STYLE_WEIGHT)
    assert settings["tv_weight"] == pytest.approx(nstlab.engine.losses.DEFAULT_TV_WEIGHT)


def test_the_button_runs_and_draws_the_image_and_the_layer_losses(explorer):
    explorer.ratio.value = 10.0
    explorer.run_button.click()
    assert explorer.result is not None
    assert explorer.result.image.shape == (40, 34, 3)
    assert len(explorer.results) == 1
    settings, result = explorer.results[0]
    assert settings["style_weight"] == pytest.approx(DEFAULT_CONTENT_WEIGHT / 10.0)
    assert result.settings["style_weight"] == pytest.approx(settings["style_weight"])
    images, curves = explorer.figures
    drawn = [ax.images[0].get_array() for ax in images.axes if ax.images]
    assert len(drawn) == 3
    np.testing.assert_allclose(drawn[2], result.image, atol=1e-6)
    labels = [line.get_label() for line in curves.axes[0].get_lines()]
    assert "content block4_conv2" in labels and "style block5_conv1" in labels
    assert "total" in labels
    assert explorer.status.value.startswith("Run 1:")
    assert not explorer.run_button.disabled
    assert not plt.fignum_exists(images.number)  # closed: shown once in the output area


def test_two_runs_are_kept_with_their_settings(explorer):
    explorer.run()
    explorer.ratio.value = 1.0
    explorer.run()
    weights = [settings["style_weight"] for settings, _ in explorer.results]
    assert weights == pytest.approx([100.0, DEFAULT_CONTENT_WEIGHT])
    assert "2 runs" in repr(explorer)


def test_all_layers_off_is_refused_and_keeps_the_last_result(explorer):
    first = explorer.run()
    for slider in explorer.layer_weights.values():
        slider.value = 0.0
    assert explorer.run() is None
    assert "at least one style layer" in explorer.status.value
    assert explorer.result is first and len(explorer.results) == 1


def test_a_failing_run_says_why_in_one_line_and_keeps_the_last_result(explorer, monkeypatch):
    first = explorer.run()

    def broken(*args, **kwargs):
        raise ValueError("style_weight must be a finite number >= 0")

    monkeypatch.setattr(nstlab.run.transfer, "stylize", broken)
    assert explorer.run() is None
    assert explorer.status.value == ("Could not stylize: ValueError: style_weight must be a "
                                     "finite number >= 0")
    assert explorer.result is first
    assert not explorer.run_button.disabled


def test_explore_outside_a_notebook_prints_a_hint(photo_64, starry_64, capsys):
    assert explore(photo_64, starry_64) is None
    assert capsys.readouterr().out.strip() == HINT


def test_without_ipywidgets_explore_prints_the_hint(photo_64, starry_64, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    monkeypatch.setattr(explorer_module, "in_notebook", lambda: True)
    assert explore(photo_64, starry_64) is None
    assert "pip install ipywidgets" in capsys.readouterr().out
    with pytest.raises(ImportError, match="pip install ipywidgets"):
        Explorer(photo_64, starry_64)


def test_explore_in_a_notebook_displays_the_widget(photo_64, starry_64, monkeypatch):
    shown = []
    monkeypatch.setattr(explorer_module, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda *objects, **kw: shown.extend(objects))
    result = explore(photo_64, starry_64, size=32, steps=1)
    assert isinstance(result, Explorer)
    assert shown == [result.widget]
