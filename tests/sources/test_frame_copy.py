"""The pcap record loop's frames: the compiled twin copies them out of the mapped file in C
(analyzer/sources/c_frame_copy.pxd), the pure reader slices the file; both must give the same
columns, a record running past the buffer's end (taken as checked) cut there as slicing does."""
from __future__ import annotations

import random
import struct

from analyzer.sources import pcapfile
from analyzer.sources.frame_copy import frame_copy
from analyzer.sources.record import RecordColumns
from tests.pure_module import load_pure


def _records(rng: random.Random) -> bytes:
    out = b""
    for _ in range(rng.randint(0, 30)):
        frame = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 14, 60, rng.randint(0, 300)])))
        out += struct.pack("<IIII", rng.getrandbits(32), rng.randint(0, 999999), len(frame),
                           len(frame) + rng.randint(0, 5)) + frame
    return out


def _columns(module, buf: bytes, take_first: bool):
    out = RecordColumns()
    st = struct.Struct("<IIII")
    got = module._records_into(buf, memoryview(buf), st.unpack_from, True, 0, len(buf), 16, 1e-6,
                               1, 65535, out, 10_000, len(buf) + 1, take_first)
    return got, list(out)


def test_pure_frame_copy_is_a_slice():
    data = bytes(range(200))
    assert frame_copy(memoryview(data), 10, 20) == data[10:20]
    assert frame_copy(memoryview(data), 190, 260) == data[190:]
    assert frame_copy(memoryview(data), 50, 50) == b"" and frame_copy(data, 210, 220) == b""


def test_compiled_record_loop_gives_the_pure_frames(monkeypatch):
    pure = load_pure(pcapfile, monkeypatch)
    rng = random.Random(4)
    for _ in range(300):
        buf = _records(rng)
        if rng.random() < 0.4 and buf:
            buf = buf[:rng.randint(0, len(buf))]          # the last record cut short
        for take_first in (False, True):
            assert _columns(pcapfile, buf, take_first) == _columns(pure, buf, take_first)
    # a first record (taken as checked) whose frame runs past the buffer: cut at its end
    buf = struct.pack("<IIII", 1, 2, 500, 500) + b"xyz"
    got = _columns(pcapfile, buf, True)
    assert got == _columns(pure, buf, True) and got[1][0].data == b"xyz"
