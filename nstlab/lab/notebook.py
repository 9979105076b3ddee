"""``setup_notebook()``: the first cell of every nstlab notebook.

It seeds every random number generator, chooses image sizes and step counts (small ones in
*quick mode*, which the tests use), sets up matplotlib, and prints what the notebook runs on.

Quick mode is on when the environment variable ``NSTLAB_QUICK`` is ``1``; the test
configuration sets it so every notebook runs in about a minute on 2 CPU cores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

QUICK_SIZE = 64
QUICK_STEPS = 10


def is_quick() -> bool:
    """True when ``NSTLAB_QUICK`` asks for tiny sizes and few steps (tests, CI)."""
    return os.environ.get("NSTLAB_QUICK", "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class NotebookConfig:
    """What a notebook should use: image size, step counts, seed, device, backbone.

    Use ``cfg.pick(full, quick)`` for any other number that should be smaller in quick mode.
    """

    quick: bool
    seed: int
    size: int
    steps: int
    device: str
    backbone: str = "vgg16"

    def pick(self, full, quick):
        """``quick`` in quick mode, else ``full``."""
        return quick if self.quick else full

    def summary(self) -> str:
        import tensorflow as tf

        import nstlab

        mode = "quick mode (tests)" if self.quick else "full mode"
        return (f"nstlab {nstlab.__version__} | TensorFlow {tf.__version__} | device: "
                f"{self.device} | backbone: {self.backbone} | {mode}: {self.size} px, "
                f"{self.steps} steps | seed {self.seed}")


def describe_device() -> str:
    """``"GPU (name)"`` when TensorFlow sees a GPU, else ``"CPU (N threads)"``."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU ({details.get('device_name', gpus[0].name)})"
    return f"CPU ({os.cpu_count()} cores)"


def setup_notebook(seed: int = 0, *, size: int = 256, steps: int = 100, quick: bool | None = None,
                   backbone: str = "vgg16", verbose: bool = True) -> NotebookConfig:
    """Prepare a notebook: seeds, sizes, matplotlib; returns a :class:`NotebookConfig`.

    Parameters
    ----------
    seed : int
        Seeds Python, NumPy and TensorFlow, so reruns give the same pictures.
    size, steps : int
        Image size (longest side, px) and optimisation steps in full mode. Quick mode uses
        :data:`QUICK_SIZE` and :data:`QUICK_STEPS`.
    quick : bool, optional
        Force quick mode on or off (default: the ``NSTLAB_QUICK`` environment variable).
    backbone : str
        The network the notebook uses (``"vgg16"`` works offline).
    """
    import matplotlib as mpl

    from nstlab.run.transfer import seed_everything

    quick = is_quick() if quick is None else bool(quick)
    seed_everything(seed)
    mpl.rcParams.update({"figure.dpi": 100, "axes.titlesize": "medium", "image.cmap": "viridis"})
    cfg = NotebookConfig(
        quick=quick,
        seed=seed,
        size=QUICK_SIZE if quick else size,
        steps=QUICK_STEPS if quick else steps,
        device=describe_device(),
        backbone=backbone,
    )
    if verbose:
        print(cfg.summary())
    return cfg
