"""A record of every optimisation step: the total loss, each layer's part, TV and time.

>>> history = result.history
>>> history.total                # 1-D array, one value per step
>>> history.style["block1_conv1"]  # that layer's weighted style loss at every step
>>> history.to_dict()            # plain lists, ready for json.dump
"""

from __future__ import annotations

import numpy as np

KINDS = ("content", "style")


def part_name(kind: str, layer: str) -> str:
    """The key of one layer's loss in a step's ``parts``: ``"content/block4_conv2"`` ...

    :class:`nstlab.Objective` returns its parts under these keys, plus ``"tv"``.
    """
    return f"{kind}/{layer}"


def layer_parts(parts: dict, kind: str) -> dict:
    """The entries of ``parts`` of one kind (``"content"`` or ``"style"``), keyed by layer."""
    prefix = part_name(kind, "")
    return {name[len(prefix):]: value for name, value in parts.items()
            if name.startswith(prefix)}


class History:
    """Per-step, per-layer losses of one optimisation run.

    Every attribute holds 1-D NumPy arrays of the same length, one entry per step.

    Attributes
    ----------
    total : array
        The total loss.
    tv : array
        The weighted total-variation loss.
    luminance : array
        The weighted luminance loss (0 at steps whose objective has none).
    time : array
        Seconds since the run started.
    content : dict
        Layer name -> that layer's weighted content loss.
    style : dict
        Layer name -> that layer's weighted style loss.
    """

    def __init__(self, content_layers=(), style_layers=()):
        self._total: list[float] = []
        self._tv: list[float] = []
        self._luminance: list[float] = []
        self._time: list[float] = []
        self._content = {name: [] for name in content_layers}
        self._style = {name: [] for name in style_layers}

    def append(self, parts: dict[str, float], total: float, time: float) -> None:
        """Record one step: ``parts`` as returned by :class:`nstlab.Objective` (floats)."""
        self._total.append(float(total))
        self._tv.append(float(parts.get("tv", 0.0)))
        self._luminance.append(float(parts.get("luminance", 0.0)))
        self._time.append(float(time))
        for kind, records in zip(KINDS, (self._content, self._style), strict=True):
            for name, values in records.items():
                values.append(float(parts[part_name(kind, name)]))

    def __len__(self) -> int:
        return len(self._total)

    @property
    def steps(self) -> np.ndarray:
        """Step numbers 1..N."""
        return np.arange(1, len(self) + 1)

    @property
    def total(self) -> np.ndarray:
        return np.asarray(self._total, dtype=np.float64)

    @property
    def tv(self) -> np.ndarray:
        return np.asarray(self._tv, dtype=np.float64)

    @property
    def luminance(self) -> np.ndarray:
        return np.asarray(self._luminance, dtype=np.float64)

    @property
    def time(self) -> np.ndarray:
        return np.asarray(self._time, dtype=np.float64)

    @property
    def content(self) -> dict[str, np.ndarray]:
        return {name: np.asarray(v, dtype=np.float64) for name, v in self._content.items()}

    @property
    def style(self) -> dict[str, np.ndarray]:
        return {name: np.asarray(v, dtype=np.float64) for name, v in self._style.items()}

    def parts(self) -> dict[str, np.ndarray]:
        """All parts keyed like the objective's: ``content/<layer>``, ``style/<layer>``, ``tv``,
        and ``luminance`` if any step had it."""
        named = {part_name("content", k): v for k, v in self.content.items()}
        named.update({part_name("style", k): v for k, v in self.style.items()})
        named["tv"] = self.tv
        if any(self._luminance):
            named["luminance"] = self.luminance
        return named

    def style_total(self) -> np.ndarray:
        """The summed weighted style loss at every step."""
        return np.sum(list(self.style.values()), axis=0) if self._style else np.zeros(len(self))

    def content_total(self) -> np.ndarray:
        """The summed weighted content loss at every step."""
        return (np.sum(list(self.content.values()), axis=0) if self._content
                else np.zeros(len(self)))

    def to_dict(self) -> dict:
        """Plain lists and floats, for ``json.dump``; :meth:`from_dict` reads it back."""
        return {
            "total": list(self._total),
            "tv": list(self._tv),
            **({"luminance": list(self._luminance)} if any(self._luminance) else {}),
            "time": list(self._time),
            "content": {name: list(v) for name, v in self._content.items()},
            "style": {name: list(v) for name, v in self._style.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """Rebuild a history saved with :meth:`to_dict`."""
        history = cls(data.get("content", {}), data.get("style", {}))
        history._total = [float(v) for v in data["total"]]
        history._tv = [float(v) for v in data["tv"]]
        history._luminance = [float(v) for v in data.get("luminance", [0.0] * len(data["tv"]))]
        history._time = [float(v) for v in data["time"]]
        history._content = {k: [float(x) for x in v] for k, v in data.get("content", {}).items()}
        history._style = {k: [float(x) for x in v] for k, v in data.get("style", {}).items()}
        return history

    def __repr__(self) -> str:
        last = f", final total {self._total[-1]:.4g}" if self._total else ""
        return (f"History({len(self)} steps, content layers {list(self._content)}, "
                f"style layers {list(self._style)}{last})")
