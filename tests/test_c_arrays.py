"""The hot modules append to their arrays through dissectors.arrays.append, which their
compiled twins replace with a C append (dissectors/c_arrays.pxd): the result must be
array.append's in every case, errors included.  Run compiled (the default build) these
exercise the C version, through the reassembler's chunk map and the conversation state."""
from __future__ import annotations

import random
from array import array

import pytest

from analyzer.engine.conv_state import ConvState
from analyzer.transport.flows import Flow
from analyzer.transport.reassembly import ChunkMap


def test_chunk_map_grows_as_array_append_does():
    rng = random.Random(3)
    ch, ref = ChunkMap(), [array("q"), array("I"), array("I"), array("I")]
    for _ in range(5000):
        row = (rng.randrange(-2**62, 2**62), rng.randrange(2**32), rng.randrange(2**32),
               rng.choice((0, 1, 2**32 - 1)))
        ch.add(*row)
        for a, v in zip(ref, row):
            a.append(v)
    assert (ch.offset, ch.packet, ch.start, ch.length) == tuple(ref)


@pytest.mark.parametrize("row", [(0, -1, 0, 0), (0, 2**32, 0, 0), (2**63, 0, 0, 0)])
def test_out_of_range_fails_as_array_append_does(row):
    ch = ChunkMap()
    with pytest.raises(OverflowError):
        ch.add(*row)


def test_an_array_exporting_a_buffer_is_not_resized():
    ch = ChunkMap()
    ch.add(1, 2, 3, 4)
    view = memoryview(ch.packet)
    with pytest.raises(BufferError):
        ch.add(5, 6, 7, 8)
    view.release()
    ch.add(9, 10, 11, 12)
    assert list(ch.packet) == [2, 10] and list(ch.offset) == [1, 5, 9]


def test_messages_appended_to_the_conversation_state():
    cs = ConvState(Flow("tcp", 0, ("127.0.0.1", 1), ("127.0.0.1", 2), 1, 0.0))
    ends = [0]
    for i in range(300):
        ends.append(ends[-1] + 1 + i % 7)
        assert cs.add_message(i % 2, ends[-2], ends[-1], [i + 1], None) == i
    assert list(cs.m_dir) == [i % 2 for i in range(300)]
    assert list(cs.m_off) == ends[:-1]
    assert list(cs.m_len) == [1 + i % 7 for i in range(300)]
    assert list(cs.m_pk) == list(range(300)) and list(cs.pk) == list(range(1, 301))
    assert list(cs.d_idx[1]) == list(range(1, 300, 2))


def test_unacked_segment_ends_read_and_emptied():
    """TCP analysis keeps each direction's unacked segment ends in an array read with
    first() and emptied with clear() (C in the twin): an ACK covering the only segment empties
    it, one short of its end keeps it, several are filtered."""
    from analyzer.decode.decoded import ACK, PSH
    from analyzer.transport.tcp_analysis import TcpConversationAnalysis
    tcp = TcpConversationAnalysis()
    t = 1.0
    tcp.packet(1, t, 0, 100, 0, 10, PSH | ACK, 1000, None)
    assert list(tcp.dirs[0].segments) == [110] and tcp.dirs[0].segments.typecode == "I"
    tcp.packet(2, t, 1, 5000, 109, 0, ACK, 1000, None)            # short of its end: kept
    assert list(tcp.dirs[0].segments) == [110]
    tcp.packet(3, t, 1, 5000, 110, 0, ACK, 1000, None)            # its end: emptied
    assert list(tcp.dirs[0].segments) == []
    for k, seq in enumerate((110, 120, 130)):
        tcp.packet(4 + k, t, 0, seq, 5000, 10, PSH | ACK, 1000, None)
    tcp.packet(7, t, 1, 5000, 2**32 - 5, 0, ACK, 1000, None)      # (far behind: keeps all)
    assert list(tcp.dirs[0].segments) == [120, 130, 140]
    tcp.packet(8, t, 1, 5000, 125, 0, ACK, 1000, None)
    assert list(tcp.dirs[0].segments) == [130, 140] and tcp.dirs[0].segments.typecode == "I"


def test_new_arrays_are_empty_and_of_their_own():
    """The arrays a new conversation, chunk map and TCP direction start with (cloned from the
    item-type templates in C): empty, of the right item type, none shared with another or
    with the templates, which stay empty."""
    from analyzer.transport.tcp_analysis import DirectionState
    from dissectors import arrays
    made = []
    for _ in range(3):
        cs = ConvState(Flow("tcp", 0, ("127.0.0.1", 1), ("127.0.0.1", 2), 1, 0.0))
        ch, d = ChunkMap(), DirectionState()
        made.append([(cs.m_dir, "b"), (cs.m_off, "q"), (cs.m_len, "q"), (cs.m_pk, "I"),
                     (cs.pk, "I"), (cs.d_idx[0], "I"), (cs.d_idx[1], "I"),
                     (cs.coalesced, "I"), (cs.pkts, "I"), (ch.offset, "q"), (ch.packet, "I"),
                     (ch.start, "I"), (ch.length, "I"), (d.segments, "I")])
    for a, code in made[0]:
        assert type(a) is array and a.typecode == code and len(a) == 0
        a.append(7)
    every = [a for row in made for a, _ in row]
    assert len({id(a) for a in every}) == len(every)
    assert all(len(a) == 0 for row in made[1:] for a, _ in row)
    assert len(arrays.BYTES) == len(arrays.LONGS) == len(arrays.UINTS) == 0
