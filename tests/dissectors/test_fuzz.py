"""A decoder either yields events or raises RemoteProtocolError: random and mutated inputs."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.base import RemoteProtocolError
from tests.dissectors.cases import GOOD, STREAM_CODECS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def feed(mod, role, opts, data: bytes, cuts: list[int]) -> None:
    conn = mod.Connection(role, **opts)
    pos = 0
    try:
        for cut in sorted(set(c % (len(data) + 1) for c in cuts)) + [len(data)]:
            chunk = data[pos:cut]
            pos = cut
            if chunk:
                events = conn.receive_data(chunk)
                assert sum(e.wire_length for e in events) <= len(data)
                for e in events:
                    e.summary(), e.fields()
        conn.receive_data(b"")
    except RemoteProtocolError:
        # dead afterwards: the same error kind again
        try:
            conn.receive_data(b"x")
        except RemoteProtocolError:
            return
        raise AssertionError("connection still alive after a RemoteProtocolError")


@SETTINGS
@given(codec=st.sampled_from(STREAM_CODECS), data=st.binary(max_size=600),
       cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=8))
def test_random_bytes(codec, data, cuts):
    mod, role, opts = codec
    feed(mod, role, opts, data, cuts)


def _mutate(wire: bytes, ops) -> bytes:
    b = bytearray(wire)
    for kind, pos, val in ops:
        if not b:
            b.append(val)
            continue
        i = pos % len(b)
        if kind == 0:
            b[i] = val
        elif kind == 1:
            b.insert(i, val)
        elif kind == 2:
            del b[i]
        else:
            b[i] ^= 1 << (val % 8)
    return bytes(b)


@SETTINGS
@given(case=st.sampled_from(GOOD),
       ops=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10_000), st.integers(0, 255)),
                    min_size=1, max_size=6),
       cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=8))
def test_mutated_valid_inputs(case, ops, cuts):
    _id, mod, role, opts, wire, _expected = case
    feed(mod, role, opts, _mutate(wire, ops), cuts)


@SETTINGS
@given(case=st.sampled_from(GOOD), cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=10))
def test_any_split_gives_the_same_bytes(case, cuts):
    """Wherever the stream is cut, the events re-encode to the original bytes."""
    _id, mod, role, opts, wire, _expected = case
    conn = mod.Connection(role, **opts)
    events, pos = [], 0
    for cut in sorted(set(c % (len(wire) + 1) for c in cuts)) + [len(wire)]:
        if wire[pos:cut]:
            events += conn.receive_data(wire[pos:cut])
        pos = cut
    events += conn.receive_data(b"")
    enc = mod.Connection(role.peer, **opts)
    assert b"".join(enc.send(e) for e in events) == wire
