"""LivePreview: one display updated in place, every N steps, throttled; silent outside notebooks."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from nstlab.engine.history import History  # noqa: E402
from nstlab.engine.optimize import StepInfo, optimize_pixels  # noqa: E402
from nstlab.lab import live  # noqa: E402

PARTS = {"content/block4_conv2": 2.0, "style/block1_conv1": 3.0, "style/block2_conv1": 1.0,
         "tv": 0.5}


def info(step, image=None):
    image = np.full((8, 12, 3), 0.5, np.float32) if image is None else image
    return StepInfo(step, 6.5 / step, {k: v / step for k, v in PARTS.items()}, 0.1 * step,
                    image.shape[:2], lambda: image)


class FakeHandle:
    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj)


@pytest.fixture
def notebook(monkeypatch):
    """Pretend to be in a notebook: record displays, and let the test set the clock."""
    shown = []
    clock = {"now": 0.0}

    def display(png):
        shown.append(png)
        handle = FakeHandle()
        shown.append(handle)
        return handle

    monkeypatch.setattr(live, "in_notebook", lambda: True)
    monkeypatch.setattr(live, "_display", display)
    monkeypatch.setattr(live, "_now", lambda: clock["now"])

    class Recorder:
        clock_ = clock

        @property
        def displays(self):
            return shown[0::2]

        @property
        def handle(self):
            return shown[1] if shown else None

        def set_time(self, seconds):
            clock["now"] = seconds

    return Recorder()


def test_outside_a_notebook_it_does_nothing(monkeypatch):
    assert live.in_notebook() is False  # pytest has no IPython kernel

    def fail(*args, **kwargs):
        raise AssertionError("drew outside a notebook")

    monkeypatch.setattr(live, "_display", fail)
    monkeypatch.setattr(live.LivePreview, "_draw", fail)
    preview = live.LivePreview(every=1, min_seconds=0)
    assert not preview.enabled
    with preview:
        for step in range(1, 4):
            assert preview(info(step)) is None
    assert preview.history is None and preview.redraws == 0
    assert "inactive" in repr(preview)


def test_one_display_updated_every_n_steps(notebook):
    preview = live.LivePreview(every=10, min_seconds=1.0)
    for step in range(1, 26):
        notebook.set_time(0.5 * step)
        assert preview(info(step)) is None
    # drawn at step 1 (to show it started), 10 and 20; one display, then updates in place
    assert len(notebook.displays) == 1
    assert notebook.displays[0].startswith(b"\x89PNG")
    assert len(notebook.handle.updates) == 2
    assert notebook.handle.updates[0].data.startswith(b"\x89PNG")
    assert preview.redraws == 3
    preview.finish()  # step 25 was not drawn yet
    assert len(notebook.handle.updates) == 3
    preview.finish()
    assert len(notebook.handle.updates) == 3
    assert len(notebook.displays) == 1


def test_redraws_are_throttled(notebook):
    preview = live.LivePreview(every=1, min_seconds=1.0)
    drawn = []
    for step in range(1, 11):
        notebook.set_time(0.25 * step)
        before = preview.redraws
        preview(info(step))
        if preview.redraws > before:
            drawn.append(step)
    assert drawn == [1, 5, 9]  # at most once a second: t = 0.25, 1.25, 2.25


def test_records_its_own_history_and_draws_image_and_losses(notebook):
    preview = live.LivePreview(every=2, min_seconds=0)
    with preview:
        for step in range(1, 6):
            preview(info(step))
    history = preview.history
    assert len(history) == 5
    assert list(history.content) == ["block4_conv2"]
    assert list(history.style) == ["block1_conv1", "block2_conv1"]
    np.testing.assert_allclose(history.style["block1_conv1"], [3.0 / s for s in range(1, 6)])
    np.testing.assert_allclose(history.time, [0.1 * s for s in range(1, 6)])
    figure = preview._figure
    image_ax, loss_ax = figure.axes
    assert image_ax.get_images()[0].get_array().shape == (8, 12, 3)
    assert image_ax.get_title().startswith("step 5")  # the context manager drew the end
    assert len(loss_ax.get_lines()) == 5  # 1 content + 2 style + tv + total
    assert loss_ax.get_yscale() == "log"


def test_given_history_is_plotted_not_recorded(notebook):
    history = History(["block4_conv2"], ["block1_conv1", "block2_conv1"])
    history.append(PARTS, 6.5, 0.1)
    preview = live.LivePreview(history=history, show_losses=False)
    preview(info(1))
    assert len(history) == 1 and preview.history is history
    assert len(preview._figure.axes) == 1


def test_with_a_real_run(notebook):
    class Tiny:
        """An objective without a network: pull pixels towards 0.3 and 0.7."""

        content_layers = ["a"]
        style_layers = ["b"]

        def __call__(self, batch):
            parts = {"content/a": tf.reduce_mean(tf.square(batch - 0.3)),
                     "style/b": tf.reduce_mean(tf.square(batch - 0.7)),
                     "tv": 1e-3 * tf.reduce_sum(tf.image.total_variation(batch))}
            return tf.add_n(list(parts.values())), parts

    start = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    with live.LivePreview(every=3, min_seconds=0) as preview:
        image, history, reason = optimize_pixels(Tiny(), start, steps=7, optimizer="adam",
                                                 callbacks=[preview], progress=False)
    assert reason == "completed"
    assert preview.redraws == 4  # steps 1, 3, 6 and the final 7
    assert len(notebook.handle.updates) == 3
    np.testing.assert_allclose(preview.history.total, history.total)
    shown = preview._figure.axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(shown, image, atol=1e-6)


def test_every_must_be_positive():
    with pytest.raises(ValueError, match="every"):
        live.LivePreview(every=0)
