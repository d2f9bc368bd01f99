"""MessageMapper on its own: stream chunks in (as a reassembler hands them), messages and
their packets out, with the lenmsg codec; the codec is made on the first byte, and a chunk
that brings whole messages is not kept."""
from __future__ import annotations

from dissectors import lenmsg
from dissectors.base import SERVER

from analyzer.engine.conv_state import ConvState
from analyzer.engine.message_cutting import MessageMapper


class _Flow:
    """What ConvState reads of a flow."""
    transport = "tcp"
    id = 1


def _mapper(made: list, resync: bool = False) -> tuple[ConvState, MessageMapper]:
    def factory():
        codec = lenmsg.Connection(SERVER)
        made.append(codec)
        return codec
    cs = ConvState(_Flow())
    return cs, MessageMapper(cs, 0, factory, resync=resync)


def _messages(cs: ConvState) -> list[tuple]:
    return [(cs.m_off[i], cs.m_len[i], cs.packets_of(i), cs.m_bad.get(i))
            for i in range(cs.message_count)]


def _feed(m: MessageMapper, chunks: list[tuple[int, bytes]]) -> None:
    off = 0
    for packet, data in chunks:
        m.data(off, packet, off, data)
        off += len(data)


def test_no_bytes_no_codec_and_nothing_at_the_end():
    made: list = []
    cs, m = _mapper(made)
    assert m.active
    m.finish()
    assert made == [] and cs.message_count == 0 and not m.active


def test_whole_sticky_and_split_messages_name_their_packets():
    made: list = []
    cs, m = _mapper(made)
    a, b, c = lenmsg.encode(b"one"), lenmsg.encode(b"two!"), lenmsg.encode(b"x" * 30)
    # packet 1: two whole messages; 2-4: one message in three pieces; 5: the rest of nothing
    _feed(m, [(1, a + b), (2, c[:5]), (3, c[5:20]), (4, c[20:]), (5, a)])
    m.finish()
    assert len(made) == 1
    assert _messages(cs) == [(0, 7, [1], None), (7, 8, [1], None), (15, 34, [2, 3, 4], None),
                             (49, 7, [5], None)]
    assert m.chunks == []


def test_a_message_left_open_in_a_chunk_keeps_its_packet():
    made: list = []
    cs, m = _mapper(made)
    a, b = lenmsg.encode(b"first"), lenmsg.encode(b"second message")
    _feed(m, [(1, a + b[:6]), (2, b[6:])])
    m.finish()
    assert _messages(cs) == [(0, 9, [1], None), (9, 18, [1, 2], None)]


def test_codec_error_in_the_first_chunk_makes_one_malformed_message():
    made: list = []
    cs, m = _mapper(made)
    _feed(m, [(7, b"\xff\xff\xff\xffjunk"), (8, b"more")])
    m.finish()
    (off, length, packets, why), = _messages(cs)
    assert (off, length, packets) == (0, 12, [7, 8]) and why


def test_stream_ending_inside_a_message():
    made: list = []
    cs, m = _mapper(made)
    _feed(m, [(3, lenmsg.encode(b"abcdef")[:7])])
    m.finish()
    assert _messages(cs) == [(0, 7, [3], "stream ended inside a message (7 of 10 bytes)")]


def test_gap_with_resync_takes_a_fresh_codec_at_the_next_byte():
    made: list = []
    cs, m = _mapper(made, resync=True)
    whole = lenmsg.encode(b"hello")
    m.data(0, 1, 0, whole + whole[:3])
    m.gap(len(whole) + 3, 10)                 # the rest of the second message is missing
    assert len(made) == 1
    after = len(whole) + 13
    m.data(after, 2, after, whole)
    m.finish()
    assert len(made) == 2
    got = _messages(cs)
    assert got[0] == (0, 9, [1], None)
    assert got[1][:3] == (9, 3, [1]) and "missing" in got[1][3]
    assert got[2] == (after, 9, [2], None)
