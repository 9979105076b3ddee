"""What crosses the sandbox's wall: plain values round-trip, anything else is refused."""

import io
import os
import struct

import numpy as np
import pytest

from nstlab.classroom.grading import protocol


def test_plain_values_round_trip():
    value = {"a": [1, 2.5, None, True], ("block1", 100.0): "x", "t": (1, "two"),
             "array": np.arange(6, dtype=np.float32).reshape(2, 3)}
    back = protocol.decode(protocol.encode(value))
    assert back.keys() == value.keys()
    assert back[("block1", 100.0)] == "x" and back["t"] == (1, "two")
    assert back["array"].dtype == np.float32 and np.array_equal(back["array"], value["array"])


def test_a_read_only_array_stays_read_only():
    array = np.ones(3)
    array.setflags(write=False)
    assert not protocol.decode(protocol.encode(array)).flags.writeable


def test_functions_cross_only_as_handles():
    handles = {}
    data = protocol.encode([len, "x"], handles)
    assert handles == {1: len}
    assert protocol.decode(data)[0] == protocol.Handle(1, "len")
    with pytest.raises(protocol.Unsendable):
        protocol.encode(len)
    with pytest.raises(protocol.Unsendable, match="only numbers"):
        protocol.encode(np.array([object()]))


def test_a_pickled_array_is_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    import base64

    forged = {"$": "array", "npy": base64.b64encode(buffer.getvalue()).decode()}
    with pytest.raises(protocol.ProtocolError, match="not valid .npy"):
        protocol.decode(forged)


@pytest.mark.parametrize("data, message", [
    ({"$": "tuple", "items": [[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]},
     "nested deeper"),
    ({"$": "pickle"}, "unknown kind"),
    ({"$": "dict", "items": [[[1], 2]]}, "not a plain value"),
    (list(range(protocol.MAX_ITEMS + 1)), "more than"),
])
def test_odd_messages_raise_a_protocol_error(data, message):
    with pytest.raises(protocol.ProtocolError, match=message):
        protocol.decode(data)


def test_frames_are_capped_and_must_be_json():
    read, write = os.pipe()
    try:
        os.write(write, struct.pack(">I", protocol.MAX_FRAME_BYTES + 1))
        with pytest.raises(protocol.ProtocolError, match="at most"):
            protocol.read_frame(read, limit=protocol.MAX_FRAME_BYTES)
        body = b"[" * 100_000
        os.write(write, struct.pack(">I", len(body)))
        writer = __import__("threading").Thread(target=os.write, args=(write, body))
        writer.start()
        with pytest.raises(protocol.ProtocolError, match="not valid JSON"):
            protocol.read_frame(read)
        writer.join()
        protocol.write_frame(write, {"ok": [1, 2]})
        assert protocol.read_frame(read) == {"ok": [1, 2]}
        os.close(write)
        write = -1
        with pytest.raises(protocol.ChannelClosed):
            protocol.read_frame(read)
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


def test_a_silent_sandbox_times_out():
    read, write = os.pipe()
    try:
        with pytest.raises(protocol.TimedOut):
            protocol.read_frame(read, deadline=__import__("time").monotonic() + 0.1)
    finally:
        os.close(read)
        os.close(write)
