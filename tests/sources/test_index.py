"""PacketIndex: columns, row access, and its memory per packet."""
from __future__ import annotations

from analyzer.engine.packet_index import BYTES_PER_PACKET, PacketIndex
from analyzer.sources.open import open_capture
from tests.sources import craft


def test_bytes_per_packet_is_documented_40():
    assert BYTES_PER_PACKET == 40


def test_append_and_row_and_update():
    idx = PacketIndex()
    for i in range(1000):
        assert idx.append(float(i), 24 + i * 100, 60, 70, 1) == i
    assert len(idx) == 1000
    idx.set_stream(5, 2, 1)
    idx.add_analysis(5, 0b101)
    idx.add_analysis(5, 0b010)
    idx.tcp_flags[5] = 0x12
    idx.payload_len[5] = 4000000000
    assert idx.row(5) == (5.0, 524, 60, 70, 1, 2, 1, 0x12, 0b111, 4000000000)
    assert idx.row(6) == (6.0, 624, 60, 70, 1, -1, -1, 0, 0, 0)
    assert idx.frame_position(7) == (724, 60)


def test_memory_is_about_40_bytes_per_packet():
    idx = PacketIndex()
    n = 200_000
    for i in range(n):
        idx.append(0.0, i, 1, 1, 1)
    assert idx.memory_bytes() / n < BYTES_PER_PACKET * 1.2


def test_from_source_points_at_the_frames(tmp_path):
    fr = craft.frames(5)
    src = open_capture(craft.write(tmp_path, "i.pcap", craft.pcap_bytes([(1, i, f) for i, f in enumerate(fr)])))
    idx = PacketIndex.from_source(src)
    assert len(idx) == 5
    for i, f in enumerate(fr):
        assert src.read_frame(*idx.frame_position(i)) == f
        assert idx.stream[i] == -1 and idx.direction[i] == -1 and idx.analysis[i] == 0
        assert idx.origlen[i] == len(f)
