"""lenmsg.Connection.receive_sizes (the analyzer's hot path) == receive_data's wire lengths,
errors included, for random streams cut at random places; both ways of reading the lengths
(struct here, byte by byte as the compiled twin does: COMPILED)."""
import random
import struct

import pytest

from dissectors import lenmsg
from dissectors.base import SERVER
from dissectors.lenmsg import Connection


def _outcome(fn, data):
    try:
        return fn(data)
    except Exception as exc:  # noqa: BLE001 - the same error must come out of both
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("byte_reading", [False, True])
@pytest.mark.parametrize("variant", ["network", "native"])
def test_receive_sizes_matches_receive_data(variant, byte_reading, in_place, monkeypatch):
    """in_place: each part handed inside a larger buffer with where it lies (start, stop), as
    the analyzer hands a frame and its payload's place."""
    monkeypatch.setattr(lenmsg, "COMPILED", byte_reading)   # (the pure module's switch)
    rng = random.Random(7)
    st = struct.Struct("!I" if variant == "network" else "<i")
    bads = [st.pack(v) for v in ((2000, 0x80000001, 0xFFFFFFFF) if variant == "network"
                                 else (-3, -2 ** 31, 2000, 0x7FFFFFFF))]
    errors = 0
    for _ in range(1500):
        stream = b""
        for _ in range(rng.randint(0, 6)):
            if rng.random() < 0.05:
                stream += rng.choice(bads)
            n = rng.choice([0, 1, 5, 30, rng.randint(0, 100)])
            stream += st.pack(n) + bytes(rng.getrandbits(8) for _ in range(n))
        if rng.random() < 0.3:
            stream = stream[:rng.randint(0, len(stream))]
        cuts = sorted(rng.sample(range(len(stream) + 1), min(len(stream) + 1, rng.randint(0, 5))))
        parts, prev = [], 0
        for c in cuts + [len(stream)]:
            parts.append(stream[prev:c])
            prev = c
        parts.append(b"")                                   # EOF
        a = Connection(SERVER, variant=variant, max_frame=1000)
        b = Connection(SERVER, variant=variant, max_frame=1000)
        for p in parts:
            ra = _outcome(lambda d: [ev.wire_length for ev in a.receive_data(d)], p)
            if in_place:
                head, tail = bytes(rng.randint(0, 60)), bytes(rng.randint(0, 9))
                rb = _outcome(lambda d: b.receive_sizes(head + d + tail, len(head),
                                                        len(head) + len(d)), p)
            else:
                rb = _outcome(b.receive_sizes, p)
            assert ra == rb, (parts, p)
            errors += isinstance(ra, tuple)
    assert errors > 0          # the error paths were exercised
