"""Table-driven codec tests: each case decoded whole, one byte at a time, with trailing data,
and re-encoded to the same bytes."""
from __future__ import annotations

import json

import pytest

from dissectors.base import Event, LocalProtocolError, RemoteProtocolError
from tests.dissectors.cases import BAD, GOOD

DATA_ATTRS = ("data", "payload")


def payload_of(ev: Event) -> bytes:
    v = getattr(ev, "data", None)
    if v is None:
        v = getattr(ev, "payload", b"")
    return v


def messages(events: list[Event]) -> list[tuple[list[str], int, bytes]]:
    """Group events into application messages (the end_of_message rule)."""
    out, cur = [], []
    for ev in events:
        cur.append(ev)
        if ev.end_of_message:
            out.append(([type(e).__name__ for e in cur], sum(e.wire_length for e in cur),
                        b"".join(payload_of(e) for e in cur)))
            cur = []
    assert not cur, "events left without an end_of_message"
    return out


def collapse(msgs):
    """Chunk counts depend on how the input was split: compare the set of event kinds only."""
    return [(tuple(dict.fromkeys(names)), length, data) for names, length, data in msgs]


def decode(mod, role, opts, chunks) -> list[Event]:
    conn = mod.Connection(role, **opts)
    events = []
    for c in chunks:
        events += conn.receive_data(c)
    events += conn.receive_data(b"")
    return events


@pytest.mark.parametrize("case", GOOD, ids=[c[0] for c in GOOD])
def test_decode_whole_bytewise_trailing_and_reencode(case):
    _id, mod, role, opts, wire, expected = case
    whole = decode(mod, role, opts, [wire])
    msgs = messages(whole)
    assert [("+".join(n), ln, d) for n, ln, d in msgs] == expected
    assert sum(e.wire_length for e in whole) == len(wire)

    bytewise = decode(mod, role, opts, [wire[i:i + 1] for i in range(len(wire))])
    assert collapse(messages(bytewise)) == collapse(msgs)

    # trailing data: an incomplete next message changes nothing before EOF
    conn = mod.Connection(role, **opts)
    before_eof = conn.receive_data(wire)
    assert before_eof + conn.receive_data(b"") == whole
    trailing = mod.Connection(role, **opts).receive_data(wire + b"G")
    assert trailing == before_eof

    # encoding the decoded events (as the peer) gives the same bytes back
    enc = mod.Connection(role.peer, **opts)
    assert b"".join(enc.send(e) for e in whole) == wire
    enc2 = mod.Connection(role.peer, **opts)
    assert b"".join(enc2.send(e) for e in bytewise) == wire

    for e in whole:   # what a view shows (JSON-serialisable fields)
        assert isinstance(e.summary(), str) and e.summary()
        assert isinstance(e.fields(), dict)
        json.dumps(e.fields())


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
@pytest.mark.parametrize("split", ["whole", "bytewise"])
def test_bad_input_is_a_remote_protocol_error(case, split):
    _id, mod, role, opts, wire, fragment = case
    chunks = [wire] if split == "whole" else [wire[i:i + 1] for i in range(min(len(wire), 70000))]
    with pytest.raises(RemoteProtocolError) as info:
        decode(mod, role, opts, chunks)
    assert fragment in str(info.value)


def test_length_prefix_checked_before_buffering():
    """A 0xFFFFFFFF prefix fails on the 4th byte, not after waiting for 4 GB."""
    from dissectors import lenmsg
    from dissectors.base import SERVER
    conn = lenmsg.Connection(SERVER)
    assert conn.receive_data(b"\xff\xff\xff") == []
    with pytest.raises(RemoteProtocolError, match="too large"):
        conn.receive_data(b"\xff")
    with pytest.raises(RemoteProtocolError):   # dead afterwards
        conn.receive_data(b"\x00\x00\x00\x00")


def test_misuse_is_a_local_protocol_error():
    from dissectors import auth, bigreply, filexfer, lenmsg
    from dissectors.base import CLIENT, SERVER
    with pytest.raises(LocalProtocolError):
        lenmsg.Connection(CLIENT).send(filexfer.Content(b"x"))
    c = filexfer.Connection(CLIENT)
    c.send(filexfer.Header.upload("a", 2))
    with pytest.raises(LocalProtocolError):
        c.send(filexfer.Content(b"abc", True))
    with pytest.raises(LocalProtocolError):
        auth.Connection(CLIENT).send(auth.Text(b"hi"))
    with pytest.raises(LocalProtocolError):
        bigreply.Connection(CLIENT).send(bigreply.Request("../x"))
    with pytest.raises(LocalProtocolError):
        lenmsg.Connection(SERVER, variant="middle-endian")
    conn = lenmsg.Connection(SERVER)
    conn.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        conn.receive_data(b"x")
