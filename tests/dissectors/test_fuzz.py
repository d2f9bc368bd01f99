"""A decoder either yields events or raises RemoteProtocolError: random and mutated inputs."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.base import SERVER, RemoteProtocolError
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


@SETTINGS
@given(transport=st.sampled_from(["tcp", "udp"]), c2s=st.binary(max_size=80), s2c=st.binary(max_size=80))
def test_probe_never_raises(transport, c2s, s2c):
    from dissectors import registry
    found = registry.detect(transport, c2s, s2c)
    assert found is None or found[0].transport == transport
    if found is not None:   # the guessed options build a working codec
        found[0].connection(SERVER, **found[1])


@SETTINGS
@given(text=st.text(max_size=40))
def test_parse_decode_as_only_raises_value_error(text):
    from dissectors.registry import REGISTRY, parse_decode_as
    try:
        port, name, opts = parse_decode_as(text)
    except ValueError as exc:
        assert "decode-as" in str(exc)
        return
    assert 1 <= port <= 65535 and name in REGISTRY
