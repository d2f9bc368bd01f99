"""The incremental check of a port's known framing (analyzer.engine.framing.known): sure as
soon as the evidence is enough, never on bytes the framing cannot explain, and through the
engine: a later conversation on the port is decided at its first segment, with the same
messages as a stated framing, and a conversation of another framing on the port is not."""
from __future__ import annotations

import struct

from analyzer.engine import Engine
from analyzer.engine.framing.infer import DirectionResult
from analyzer.engine.framing.known import KnownFramingCheck
from analyzer.render.summary_json import summary_json
from dissectors.framed import Framing
from tests.engine.framing.gen import conversation
from tests.engine.framing.wire import TcpConv, engine_of


def _known(c2s: str | None, s2c: str | None) -> KnownFramingCheck:
    return KnownFramingCheck([DirectionResult(Framing.parse(t) if t else None, 1.0)
                              for t in (c2s, s2c)])


def _feed(check: KnownFramingCheck, pieces: list[tuple[int, bytes]]) -> list[bool]:
    """Feed (direction, bytes) pieces one at a time as the engine buffers them."""
    pending, have, out = [], [0, 0], []
    for k, (d, data) in enumerate(pieces):
        pending.append((d, have[d], k + 1, have[d], data))
        have[d] += len(data)
        out.append(check.feed(pending, 16 * 1024))
    return out


def _len4(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def test_one_exact_message_at_a_segment_end_is_enough():
    check = _known("len:4:be", "len:4:be")
    assert _feed(check, [(0, _len4(b"hello world"))]) == [True]


def test_one_message_then_bytes_over_waits_for_a_second():
    """One message, then the start of another in the same segment: the segment does not end
    on a message end, so one message is not enough yet; the next one completes is."""
    one, two = _len4(b"hello world"), _len4(b"second")
    check = _known("len:4:be", "len:4:be")
    assert _feed(check, [(0, one + two[:2]), (0, two[2:])]) == [False, True]


def test_a_split_message_waits_for_its_end():
    msg = _len4(b"x" * 40)
    check = _known("len:4:be", "len:4:be")
    assert _feed(check, [(0, msg[:3]), (0, msg[3:20]), (0, msg[20:])]) == [False, False, True]


def test_weak_framings_need_more_messages():
    """A delimiter says one bit a message: one line is not enough, a few with the sender's
    segments ending on them are."""
    lines = [b"GET %d\n" % i for i in range(8)]
    check = _known("delim:\\n", "delim:\\n")
    verdicts = _feed(check, [(0, line) for line in lines])
    assert verdicts[0] is False and verdicts[-1] is True
    assert not check.contradicted


def test_bytes_the_framing_cannot_read_contradict_it():
    check = _known("len:4:be", "len:4:be")
    assert _feed(check, [(0, b"hello there, this is text\r\n")]) == [False]
    assert check.contradicted


def test_a_message_begun_that_the_framing_reads_implausibly_blocks_the_decision():
    """Text read as a 2-byte length at offset 1 begins a ~26 kB message: not contradicted,
    but no evidence either, so the other direction's sure messages do not decide alone."""
    check = _known("len:2:be:offset=1:header=4", "len:4:be")
    verdicts = _feed(check, [(0, b"hello there\r\n"), (1, _len4(b"one")), (1, _len4(b"two"))])
    assert not any(verdicts) and not check.contradicted
    check = _known("len:2:be:offset=1:header=4", "len:4:be")
    header_then_body = b"\x01\x00\x05\x00hello" * 3           # three 9-byte messages
    assert _feed(check, [(0, header_then_body), (1, _len4(b"one"))]) == [True, True]


def test_a_gap_stops_the_check():
    check = _known("len:4:be", "len:4:be")
    msg = _len4(b"abc")
    pending = [(0, 0, 1, 0, msg[:2]), (0, 2, 0, -1, 5)]
    assert check.feed(pending, 1024) is False
    assert check.stopped[0]


def _port_conversations(first: str, second: str, port: int = 7300) -> list[TcpConv]:
    out = []
    for k, family in enumerate((first, second)):
        _msgs, segs = conversation(family, 40 + k, count=8, mode="each")
        _rm, rsegs = conversation(family, 140 + k, count=8, mode="each")
        c = TcpConv(cport=30000 + k, sport=port, t0=1.7e9 + k).open()
        for a, b in zip(segs, rsegs):
            c.send(0, [a]).send(1, [b])
        out.append(c.close())
    return out


def test_later_conversation_on_the_port_decided_at_its_first_segment():
    convs = _port_conversations("len4be", "len4be")
    inferred = engine_of(convs, decode_as={7300: "infer"})
    stated = engine_of(convs, decode_as={7300: "len:4:be"})
    second = inferred.states[1]
    assert second.protocol == "inferred"
    report = summary_json(inferred)["conversations"][1]["framing"]
    assert report.get("as_earlier_conversation_on_port") is True
    for a, b in zip(inferred.states, stated.states):
        assert a.m_len.tolist() == b.m_len.tolist() and a.m_dir.tolist() == b.m_dir.tolist()


def test_the_check_decides_with_one_segment_buffered():
    first, second = _port_conversations("len4be", "len4be")
    eng = Engine(decode_as={7300: "infer"})
    for ts, data in first.frames + second.frames[:4]:       # handshake, then one segment
        eng.feed((ts, 1, data, len(data), -1))
    assert eng.states[0].decided
    assert eng.states[1].decided and eng.states[1].protocol == "inferred"
    assert eng.states[1].m_len.tolist() == [len(second.frames[3][1]) - 54]


def test_another_framing_on_the_port_is_inferred_afresh():
    convs = _port_conversations("len4be", "crlf")
    out = summary_json(engine_of(convs, decode_as={7300: "infer"}))["conversations"]
    assert out[0]["framing"]["c2s"]["framing"] == "len:4:be"
    assert out[1]["framing"]["c2s"]["framing"] == "delim:\\r\\n"
    assert "as_earlier_conversation_on_port" not in out[1]["framing"]
