"""pcapng reading: blocks, interfaces, sections, resolution; bad blocks (fault 6), linktype (7)."""
from __future__ import annotations

import struct
import threading

import pytest
from scapy.all import raw, IP, TCP

from analyzer.decode import decode_frame
from analyzer.errors import CaptureFormatError
from analyzer.sources.open import open_capture
from tests.sources import craft
from tests.sources.oracle import tshark_frames


def _multi(e: str = "<") -> tuple[bytes, list[bytes]]:
    fr = craft.frames(4)
    rawip = raw(IP(src="127.0.0.1", dst="127.0.0.1") / TCP(sport=1, dport=2))
    content = (craft.shb(e)
               + craft.idb(e, 1)                                  # if 0: Ethernet, µs
               + craft.idb(e, 101, tsresol=9)                     # if 1: raw IP, ns
               + craft.idb(e, 1, tsresol=0x80 | 10, tsoffset=100)  # if 2: 2^-10 s, +100 s
               + craft.epb(e, 0, 1700000000_250000, fr[0])
               + craft.block(e, 0x80000001, b"local junk!!")      # unknown block: skipped
               + craft.epb(e, 1, 1700000001_000000001, rawip)
               + craft.block(e, 4, bytes(8))                      # name resolution: skipped
               + craft.epb(e, 2, 1024 * 1700000000 + 512, fr[1])
               + craft.block(e, 5, bytes(12))                     # interface statistics
               + craft.spb(e, fr[2])
               + craft.opb(e, 0, 1700000003_000000, fr[3]))
    return content, [fr[0], rawip, fr[1], fr[2], fr[3]]


@pytest.mark.parametrize("e", ["<", ">"])
def test_several_interfaces_and_block_kinds(tmp_path, e):
    content, expect = _multi(e)
    path = craft.write(tmp_path, "m.pcapng", content)
    src = open_capture(path)
    recs = list(src)
    assert src.format == "pcapng" and src.warnings == []
    assert [r.data for r in recs] == expect
    assert [r.linktype for r in recs] == [1, 101, 1, 1, 1]
    assert recs[0].ts == pytest.approx(1700000000.25)
    assert recs[1].ts == pytest.approx(1700000001.000000001)
    assert recs[2].ts == pytest.approx(1700000000.5 + 100)
    assert recs[3].ts == 0.0                      # simple packet blocks carry no time
    assert recs[4].ts == pytest.approx(1700000003.0)
    for r in recs:
        assert src.read_frame(r.offset, len(r.data)) == r.data
    assert src.progress == src.size
    oracle = tshark_frames(path)
    assert [(ln, cap) for _, ln, cap in oracle] == [(r.origlen, len(r.data)) for r in recs]
    assert [round(t, 6) for t, _, _ in oracle] == [round(r.ts, 6) for r in recs]
    assert decode_frame(recs[1].linktype, recs[1].data).transport == "tcp"


def test_two_sections_with_different_byte_orders(tmp_path):
    fr = craft.frames(2)
    content = (craft.shb("<") + craft.idb("<", 1) + craft.epb("<", 0, 5_000000, fr[0])
               + craft.shb(">") + craft.idb(">", 101)
               + craft.epb(">", 0, 6_000000, fr[1][14:]))
    src = open_capture(craft.write(tmp_path, "two.pcapng", content))
    recs = list(src)
    assert [(r.linktype, r.data, r.ts) for r in recs] == [(1, fr[0], 5.0), (101, fr[1][14:], 6.0)]
    assert src.warnings == []


def _read_bounded(path: str, seconds: float = 10.0):
    """Iterate in a thread so a reader that loops forever fails the test instead of hanging."""
    out: dict = {}

    def run():
        src = open_capture(path)
        out["recs"] = list(src)
        out["warnings"] = src.warnings

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "reader did not terminate"
    return out["recs"], out["warnings"]


@pytest.mark.parametrize("blen,why", [(0, "block length 0 (< 12)"), (8, "block length 8 (< 12)"),
                                      (13, "block length 13 (not a multiple of 4)")])
def test_bad_block_length_stops_with_warning(tmp_path, blen, why):
    fr = craft.frames(2)
    good = craft.shb() + craft.idb("<", 1) + craft.epb("<", 0, 1, fr[0]) + craft.epb("<", 0, 2, fr[1])
    bad = struct.pack("<II", 6, blen) + bytes(64)
    recs, warnings = _read_bounded(craft.write(tmp_path, "b.pcapng", good + bad + good[-100:]))
    assert [r.data for r in recs] == fr
    assert warnings == [f"bad pcapng block at offset {len(good)}: {why}: stopped reading there, "
                        "2 packets kept"]


def test_trailer_mismatch_stops_with_warning(tmp_path):
    fr = craft.frames(2)
    head = craft.shb() + craft.idb("<", 1) + craft.epb("<", 0, 1, fr[0])
    broken = bytearray(craft.epb("<", 0, 2, fr[1]))
    broken[-4:] = struct.pack("<I", 12)
    recs, warnings = _read_bounded(craft.write(tmp_path, "t.pcapng", head + bytes(broken)))
    assert [r.data for r in recs] == fr[:1]
    assert len(warnings) == 1
    assert f"bad pcapng block at offset {len(head)}: trailing block length 12 differs" in warnings[0]


def test_truncated_last_block_keeps_earlier(tmp_path):
    fr = craft.frames(3)
    content = craft.shb() + craft.idb("<", 1) + b"".join(craft.epb("<", 0, i, f) for i, f in enumerate(fr))
    recs, warnings = _read_bounded(craft.write(tmp_path, "c.pcapng", content[:-10]))
    assert [r.data for r in recs] == fr[:2]
    assert len(warnings) == 1 and "truncated pcapng block at offset" in warnings[0]


def test_caplen_overflowing_its_block(tmp_path):
    fr = craft.frames(1)
    b = bytearray(craft.epb("<", 0, 1, fr[0]))
    b[20:24] = struct.pack("<I", 0xFFFFFFF0)           # captured length field
    head = craft.shb() + craft.idb("<", 1)
    recs, warnings = _read_bounded(craft.write(tmp_path, "o.pcapng", head + bytes(b)))
    assert recs == []
    assert warnings == [f"bad pcapng block at offset {len(head)}: captured length 4294967280 "
                        f"exceeds its block ({len(b)} bytes): stopped reading there, 0 packets kept"]


@pytest.mark.parametrize("mutate,msg", [
    (lambda b: b[:8] + b"\x00\x00\x00\x00" + b[12:], "unknown byte-order magic"),
    (lambda b: b[:4] + struct.pack("<I", 0) + b[8:], "bad block length 0"),
    (lambda b: b[:12] + struct.pack("<H", 2) + b[14:], "unsupported pcapng version 2.0"),
    (lambda b: b[:24], "trailing block length differs"),
])
def test_bad_first_section_header_is_fatal(tmp_path, mutate, msg):
    path = craft.write(tmp_path, "h.pcapng", mutate(craft.shb()) + craft.idb("<", 1))
    with pytest.raises(CaptureFormatError, match=msg):
        open_capture(path)


def test_unknown_interface_id_skips_packet_with_warning(tmp_path):
    fr = craft.frames(2)
    content = craft.shb() + craft.idb("<", 1) + craft.epb("<", 3, 1, fr[0]) + craft.epb("<", 0, 2, fr[1])
    recs, warnings = _read_bounded(craft.write(tmp_path, "i.pcapng", content))
    assert [r.data for r in recs] == fr[1:]
    assert len(warnings) == 1 and "names interface 3 but the section has 1" in warnings[0]


def test_unsupported_linktype_listed_and_warned_once(tmp_path):
    fr = craft.frames(3)
    # pcap with linktype 147 (USER0)
    path = craft.write(tmp_path, "u.pcap", craft.pcap_bytes([(1, 0, f) for f in fr], linktype=147))
    src = open_capture(path)
    recs = list(src)
    assert len(recs) == 3                                     # never silently 0 packets
    assert [w for w in src.warnings if "unsupported linktype 147" in w] == src.warnings
    assert len(src.warnings) == 1
    d = decode_frame(recs[0].linktype, recs[0].data, recs[0].origlen)
    assert d.malformed == "unsupported linktype 147"
    # pcapng: two interfaces with the same unknown linktype -> still one warning
    content = (craft.shb() + craft.idb("<", 147) + craft.idb("<", 147) + craft.idb("<", 1)
               + craft.epb("<", 0, 1, fr[0]) + craft.epb("<", 1, 2, fr[1]) + craft.epb("<", 2, 3, fr[2]))
    src = open_capture(craft.write(tmp_path, "u.pcapng", content))
    assert [r.linktype for r in src] == [147, 147, 1]
    assert src.warnings == ["unsupported linktype 147: packets are listed but not decoded"]


def test_simple_packet_block_respects_snaplen(tmp_path):
    fr = craft.frames(1)
    content = craft.shb() + craft.idb("<", 1, snaplen=40) + craft.spb("<", fr[0])
    recs, warnings = _read_bounded(craft.write(tmp_path, "s.pcapng", content))
    assert recs[0].data == fr[0][:40] and recs[0].origlen == len(fr[0]) and warnings == []
