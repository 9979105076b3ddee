"""What crosses the sandbox's wall: plain data in capped frames, read as untrusted.

The grader and the program in the sandbox (:mod:`nstlab.classroom.grading.inside`) talk
through two pipes. Each message is a *frame*: 4 bytes giving the length, then that many
bytes of JSON. Nothing else is ever read from the sandbox: no pickle, no file it wrote.

Values are plain data, written by :func:`encode` and read back by :func:`decode`:

* ``None``, booleans, numbers, strings, lists, tuples and dicts (any plain keys);
* NumPy arrays and TensorFlow tensors, as ``.npy`` bytes that are loaded with
  ``allow_pickle=False`` and must hold numbers or booleans;
* a :class:`nstlab.engine.history.History`, as its ``to_dict()``;
* a dataclass instance (``StylizeResult``), as its fields that are plain data; it comes
  back as a read-only namespace, so ``result.image`` still works;
* a function of the student's, as a *handle* (a number): the grader can ask the sandbox
  to call it, it never gets the function itself.

Anything else cannot cross: :class:`Unsendable`. Reading is capped everywhere: a frame's
size (:data:`MAX_FRAME_BYTES`), nesting depth (:data:`MAX_DEPTH`), and the number of items
(:data:`MAX_ITEMS`). A bad frame raises :class:`ProtocolError`, which the grader reports
as the student's crash; it never becomes a result.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import io
import json
import os
import select
import struct
import time
import types

import numpy as np

#: The largest frame either side accepts (the answers of the course are a few MB).
MAX_FRAME_BYTES = 64 * 2**20
#: How deep lists, dicts and tuples may nest.
MAX_DEPTH = 24
#: How many values one frame may hold in all.
MAX_ITEMS = 200_000
_HEADER = struct.Struct(">I")
_TAG = "$"


class ProtocolError(ValueError):
    """A frame that is not what the protocol allows (too big, bad JSON, odd values)."""


class Unsendable(TypeError):
    """A value that cannot cross the sandbox's wall as plain data."""


class ChannelClosed(EOFError):
    """The other side closed its pipe (in the sandbox: the program ended)."""


class TimedOut(TimeoutError):
    """No complete frame arrived before the deadline."""


# --------------------------------------------------------------------------- values


def _array_bytes(array: np.ndarray) -> str:
    if array.dtype.kind not in "biufc":
        raise Unsendable(f"an array of {array.dtype} (only numbers and booleans cross)")
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode(value, handles: dict | None = None, depth: int = 0):
    """``value`` as JSON-ready plain data (see the module docstring).

    ``handles``, when given, receives the student's functions met on the way
    (``{number: function}``); without it a function is :class:`Unsendable`.
    """
    if depth > MAX_DEPTH:
        raise Unsendable(f"nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return int(value) if isinstance(value, int) else float(value)
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        return {_TAG: "array", "npy": _array_bytes(value), "readonly": not value.flags.writeable}
    kind = type(value).__module__.split(".")[0]
    if kind == "tensorflow" and hasattr(value, "numpy") and hasattr(value, "dtype"):
        variable = type(value).__name__.endswith("Variable")
        return {_TAG: "array", "npy": _array_bytes(np.asarray(value.numpy())),
                "tensor": True, "variable": variable}
    if isinstance(value, list):
        return [encode(item, handles, depth + 1) for item in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "items": [encode(item, handles, depth + 1) for item in value]}
    if isinstance(value, dict):
        return {_TAG: "dict", "items": [[encode(key, handles, depth + 1),
                                          encode(item, handles, depth + 1)]
                                         for key, item in value.items()]}
    if type(value).__name__ == "History" and hasattr(value, "to_dict"):
        return {_TAG: "History", "data": encode(value.to_dict(), handles, depth + 1)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {}
        for field in dataclasses.fields(value):
            try:
                fields[field.name] = encode(getattr(value, field.name), None, depth + 1)
            except Unsendable:
                continue  # a field that cannot cross stays behind
        return {_TAG: "object", "type": type(value).__name__, "fields": fields}
    if handles is not None and (inspect.isfunction(value) or inspect.ismethod(value)
                                or inspect.isbuiltin(value)):
        number = len(handles) + 1
        handles[number] = value
        name = str(getattr(value, "__name__", "function"))
        return {_TAG: "function", "handle": number, "name": name}
    raise Unsendable(f"a {type(value).__name__}")


@dataclasses.dataclass(frozen=True)
class Handle:
    """A student's function, known to the grader only by its number in the sandbox."""

    number: int
    name: str


class _Budget:
    def __init__(self) -> None:
        self.items = 0

    def spend(self) -> None:
        self.items += 1
        if self.items > MAX_ITEMS:
            raise ProtocolError(f"more than {MAX_ITEMS} values in one message")


def _load_array(entry: dict) -> np.ndarray:
    try:
        raw = base64.b64decode(entry["npy"], validate=True)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, TypeError, KeyError, OSError, EOFError) as error:
        raise ProtocolError(f"an array that is not valid .npy data ({error})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biufc":
        raise ProtocolError("an array that does not hold numbers")
    if entry.get("readonly") is True:
        array.setflags(write=False)
    return array


def decode(data, *, tensors=None, depth: int = 0, budget: _Budget | None = None):
    """The value :func:`encode` wrote; raises :class:`ProtocolError` for anything else.

    ``tensors``: a function that turns an array marked as a tensor back into one (and a
    variable into a variable), as the sandbox does for the student's code; the grader
    leaves them as NumPy arrays. A function handle becomes a :class:`Handle`.
    """
    budget = budget or _Budget()
    budget.spend()
    if depth > MAX_DEPTH:
        raise ProtocolError(f"nested deeper than {MAX_DEPTH} levels")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(item, tensors=tensors, depth=depth + 1, budget=budget) for item in data]
    if not isinstance(data, dict):
        raise ProtocolError(f"an unexpected {type(data).__name__}")
    tag = data.get(_TAG)

    def inner(item):
        return decode(item, tensors=tensors, depth=depth + 1, budget=budget)

    try:
        if tag == "array":
            array = _load_array(data)
            if tensors is not None and data.get("tensor") is True:
                return tensors(array, data.get("variable") is True)
            return array
        if tag == "tuple":
            return tuple(inner(item) for item in data["items"])
        if tag == "dict":
            return {_hashable(inner(key)): inner(item) for key, item in data["items"]}
        if tag == "History":
            from nstlab.engine.history import History

            return History.from_dict(inner(data["data"]))
        if tag == "object":
            fields = {str(name): inner(item) for name, item in dict(data["fields"]).items()}
            return _Namespace(str(data["type"])[:60], fields)
        if tag == "function":
            return Handle(int(data["handle"]), str(data["name"])[:60])
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ProtocolError):
            raise
        raise ProtocolError(f"a malformed {tag!r} value ({error})") from None
    raise ProtocolError(f"an unknown kind of value {str(tag)[:40]!r}")


def _hashable(key):
    try:
        hash(key)
    except TypeError:
        raise ProtocolError("a dict key that is not a plain value") from None
    return key


class _Namespace(types.SimpleNamespace):
    """A dataclass's plain fields, read-only: what a returned object becomes."""

    def __init__(self, type_name: str, fields: dict) -> None:
        super().__init__(**fields)
        object.__setattr__(self, "_type_name", type_name)

    def __setattr__(self, name, value):
        raise AttributeError("a result from the sandbox is read-only")

    def __repr__(self) -> str:
        return f"<{self._type_name} from the sandbox>"


# --------------------------------------------------------------------------- frames


def write_frame(fd: int, message) -> None:
    """Send one JSON-ready ``message`` on the pipe ``fd``."""
    body = json.dumps(message, allow_nan=True, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_FRAME_BYTES:
        raise Unsendable(f"a message of {len(body) / 2**20:.0f} MB (at most "
                         f"{MAX_FRAME_BYTES // 2**20} MB cross)")
    data = _HEADER.pack(len(body)) + body
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, left = [], size
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimedOut("no answer before the time limit")
        chunk = os.read(fd, min(left, 2**20))
        if not chunk:
            raise ChannelClosed("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, deadline: float | None = None, limit: int = MAX_FRAME_BYTES):
    """The next message on the pipe ``fd``, as parsed JSON (not yet :func:`decode`-d).

    ``deadline`` is a :func:`time.monotonic` time; :class:`TimedOut` after it. A frame
    larger than ``limit`` or not valid JSON raises :class:`ProtocolError` without
    reading it all.
    """
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    if size > limit:
        raise ProtocolError(f"a message of {size / 2**20:.0f} MB (at most "
                            f"{limit // 2**20} MB are read)")
    body = _read_exactly(fd, size, deadline)
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ProtocolError(f"a message that is not valid JSON ({type(error).__name__})") \
            from None


# --------------------------------------------------------------------------- errors


def raised(error: BaseException) -> dict:
    """An exception of the student's code as plain data: its type's name and message."""
    return {"type": type(error).__name__[:80], "message": str(error)[:2000]}
