"""Property: any valid stream the peer's codec encodes decodes back to the same messages,
however the byte stream is cut."""
from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors import auth, bigreply, chat, filexfer, lenmsg
from dissectors.base import CLIENT, SERVER

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
cuts = st.lists(st.integers(min_value=0, max_value=5000), max_size=12)


def split_feed(conn, wire: bytes, cut_points) -> list:
    events, pos = [], 0
    for c in sorted(set(x % (len(wire) + 1) for x in cut_points)) + [len(wire)]:
        if wire[pos:c]:
            events += conn.receive_data(wire[pos:c])
        pos = c
    return events + conn.receive_data(b"")


def grouped(events, key) -> list:
    """One entry per application message: key(events of that message)."""
    out, cur = [], []
    for e in events:
        cur.append(e)
        if e.end_of_message:
            out.append(key(cur))
            cur = []
    assert cur == []
    return out


@SETTINGS
@given(payloads=st.lists(st.binary(max_size=300), max_size=8), variant=st.sampled_from(["network", "native"]),
       cut_points=cuts)
def test_lenmsg(payloads, variant, cut_points):
    enc = lenmsg.Connection(CLIENT, variant=variant)
    wire = b"".join(enc.send(lenmsg.Frame(p)) for p in payloads)
    events = split_feed(lenmsg.Connection(SERVER, variant=variant), wire, cut_points)
    assert [e.payload for e in events] == payloads


@SETTINGS
@given(lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"") + b"\n"), max_size=8),
       tail=st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_frame=st.integers(1, 64),
       cut_points=cuts)
def test_chat(lines, tail, max_frame, cut_points):
    wire = b"".join(lines) + tail
    events = split_feed(chat.Connection(SERVER, max_frame=max_frame), wire, cut_points)
    msgs = grouped(events, lambda es: b"".join(e.data for e in es))
    assert b"".join(msgs) == wire
    whole_lines = [m for m in msgs if m.endswith(b"\n")]
    if max_frame >= 41:        # every line fits one frame: messages are exactly the lines
        assert whole_lines == lines and msgs == lines + ([tail] if tail else [])


files = st.lists(st.tuples(st.text(min_size=1, max_size=20), st.binary(max_size=500), st.booleans()),
                 max_size=5)


@SETTINGS
@given(uploads=files, variant=st.sampled_from(["network", "native"]), chunk=st.integers(1, 200),
       cut_points=cuts)
def test_filexfer_uploads(uploads, variant, chunk, cut_points):
    enc = filexfer.Connection(CLIENT, variant=variant)
    wire = b""
    for name, data, with_sha in uploads:
        sha = hashlib.sha256(data).hexdigest() if with_sha else None
        wire += enc.send(filexfer.Header.upload(name, len(data), sha))
        if data:
            wire += enc.send(filexfer.Content(data, True))
    events = split_feed(filexfer.Connection(SERVER, variant=variant, chunk_size=chunk), wire, cut_points)
    got = grouped(events, lambda es: (es[0].filename, b"".join(e.data for e in es[1:]), es[0].sha256 is not None))
    assert got == uploads
    assert all(len(e.data) <= chunk for e in events if isinstance(e, filexfer.Content))


@SETTINGS
@given(items=st.lists(st.one_of(st.tuples(st.just("get"), st.text(min_size=1, max_size=10)),
                                st.tuples(st.just("status"), st.booleans())), max_size=6),
       cut_points=cuts)
def test_filexfer_replies(items, cut_points):
    enc = filexfer.Connection(SERVER)
    wire, expected = b"", []
    for kind, value in items:
        if kind == "get":
            data = value.encode() * 3
            wire += enc.send(filexfer.Status.make(ok=True, filename=value, size=len(data),
                                                  sha256=hashlib.sha256(data).hexdigest()))
            if data:
                wire += enc.send(filexfer.Content(data, True))
            expected.append(data)
        else:
            wire += enc.send(filexfer.Status.make(ok=value, stored="x", size=1) if value
                             else filexfer.Status.make(ok=False, error="no"))
            expected.append(b"")
    events = split_feed(filexfer.Connection(CLIENT), wire, cut_points)
    assert grouped(events, lambda es: b"".join(e.data for e in es[1:])) == expected


@SETTINGS
@given(names=st.lists(st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True), max_size=5),
       bodies=st.lists(st.binary(max_size=300), max_size=5), chunk=st.integers(1, 100), cut_points=cuts)
def test_bigreply(names, bodies, chunk, cut_points):
    req = bigreply.Connection(CLIENT)
    wire = b"".join(req.send(bigreply.Request(n)) for n in names)
    assert [e.name for e in split_feed(bigreply.Connection(SERVER), wire, cut_points)] == names
    rep = bigreply.Connection(SERVER)
    wire = b""
    for i, body in enumerate(bodies):
        if i % 3 == 2:
            wire += rep.send(bigreply.Error(f"no such report r{i}"))
        else:
            wire += rep.send(bigreply.ReportHeader(f"r{i}", len(body)))
            if body:
                wire += rep.send(bigreply.Body(body, True))
    events = split_feed(bigreply.Connection(CLIENT, chunk_size=chunk), wire, cut_points)
    got = grouped(events, lambda es: b"".join(e.data for e in es if isinstance(e, bigreply.Body)))
    assert got == [b"" if i % 3 == 2 else b for i, b in enumerate(bodies)]


@SETTINGS
@given(variant=st.sampled_from(auth.VARIANTS), secret=st.binary(min_size=1, max_size=40),
       challenge=st.binary(min_size=32, max_size=32), chat_bytes=st.binary(max_size=100), cut_points=cuts)
def test_auth(variant, secret, challenge, chat_bytes, cut_points):
    c = auth.Connection(CLIENT, variant=variant)
    answer = auth.compute_answer(secret, challenge, variant)
    wire = c.send(auth.Answer(answer, variant)) + c.send(auth.Text(chat_bytes))
    events = split_feed(auth.Connection(SERVER, variant=variant), wire, cut_points)
    assert events[0] == auth.Answer(answer, variant)
    assert auth.verify(secret, challenge, events[0].data, variant)
    assert b"".join(e.data for e in events[1:]) == chat_bytes
