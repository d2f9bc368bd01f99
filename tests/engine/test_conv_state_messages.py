"""ConvState.add_whole (a message carried by one packet, what the message cutter calls for
most messages) must leave the state exactly as add_message(..., [packet], None) does: message
arrays, packets, per-direction indexes, coalesced packets, version."""
from __future__ import annotations

import random

from analyzer.engine.conv_state import ConvState
from analyzer.transport.flows import Flow


def _state() -> ConvState:
    return ConvState(Flow("tcp", 0, ("127.0.0.1", 1), ("127.0.0.1", 2), 1, 0.0))


def _facts(cs: ConvState):
    return ([list(a) for a in (cs.m_dir, cs.m_off, cs.m_len, cs.m_pk, cs.pk, cs.coalesced,
                               cs.d_idx[0], cs.d_idx[1])], cs.m_bad, cs.last_pkt, cs.version)


def test_add_whole_is_add_message_of_one_packet():
    rng = random.Random(5)
    for _ in range(200):
        a, b = _state(), _state()
        offsets = [0, 0]
        packet = 1
        for _ in range(rng.randint(1, 60)):
            direction = rng.randint(0, 1)
            start = offsets[direction]
            end = start + rng.randint(0, 50)
            offsets[direction] = end
            packet += rng.choice([0, 0, 1, 2])          # several messages in one packet
            count = rng.choice([1, 1, 1, 0, 2, 3])
            packets = [packet + k for k in range(count)]
            malformed = "bad" if rng.random() < 0.1 else None
            i = a.add_message(direction, start, end, packets, malformed)
            if count == 1 and malformed is None:
                j = b.add_whole(direction, start, end, packet)
            else:
                j = b.add_message(direction, start, end, packets, malformed)
            assert i == j
            packet += max(count - 1, 0)
        assert _facts(a) == _facts(b)


def test_messages_sharing_a_packet_are_coalesced_once():
    cs = _state()
    cs.add_whole(0, 0, 5, 7)
    cs.add_whole(0, 5, 9, 7)
    cs.add_whole(0, 9, 12, 7)
    cs.add_whole(1, 0, 3, 7)            # the other direction: its own previous message
    cs.add_message(0, 12, 20, [8, 9], None)
    cs.add_whole(0, 20, 22, 9)
    assert list(cs.coalesced) == [7, 9] and cs.last_pkt == [9, 7]
    assert list(cs.pk) == [7, 7, 7, 7, 8, 9, 9] and list(cs.m_pk) == [0, 1, 2, 3, 4, 6]
