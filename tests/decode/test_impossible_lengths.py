"""Impossible lengths (a UDP length or IP total length beyond the frame, or below its
header): the packet keeps its conversation exactly where tshark gives it one, decoded from
the bytes captured and marked malformed in tshark's expert-info words; crafted captures,
tshark as the oracle (packet streams and `-z conv,udp`)."""
from __future__ import annotations

import subprocess

from analyzer.decode import decode_frame
from analyzer.engine.loader import analyze_file
from tests.decode.snapshot import eth, ip4, ip6, tcp, udp
from tests.sources import craft


def _u4(n: int, **kw) -> bytes:
    return ip4(udp(b"hello", sport=5000 + n, dport=9005, **kw), proto=17)


def _u6(n: int, **kw) -> bytes:
    return ip6(udp(b"hello", sport=6000 + n, dport=9005, **kw), nh=17)


# (frame, malformed reason, kept in a conversation: as tshark)
CASES = [
    (eth(0x0800, ip4(udp(b"hello", sport=5001, dport=9005), proto=17, total=1500)),
     "IPv4 total length exceeds packet length (33 bytes)", True),
    (eth(0x0800, _u4(2, ulen=1500)), "Bad length value 1500 > IP payload length 13", True),
    (eth(0x86DD, ip6(udp(b"hello", sport=6003, dport=9005), nh=17, plen=1500)),
     "IPv6 payload length exceeds framing length (13 bytes)", True),
    (eth(0x86DD, _u6(4, ulen=999)), "Bad length value 999 > IP payload length 13", True),
    (eth(0x0800, ip4(tcp(b"hello", sport=40005), total=1500)),
     "IPv4 total length exceeds packet length (45 bytes)", True),
    (eth(0x0800, _u4(6, ulen=4)), "Bad length value 4 < 8", False),
    (eth(0x0800, _u4(7, ulen=0)), "Bad length value 0 < 8", False),
    (eth(0x0800, ip4(udp(b"hello", sport=5008), proto=17, total=10)),
     "Bogus IP length (10, less than header length 20)", False),
    (eth(0x0800, _u4(9)), None, True),                   # a good one after them
]


def _tshark(path: str, *args: str) -> str:
    return subprocess.run(["tshark", "-n", "-r", path, *args], capture_output=True, text=True,
                          timeout=60).stdout


def test_decoded_from_the_bytes_captured_and_marked():
    for frame, reason, kept in CASES:
        d = decode_frame(1, frame)
        assert d.malformed == reason
        assert (d.transport in ("tcp", "udp") and d.payload_offset >= 0) == kept, reason
        if kept:
            assert d.payload_offset + d.captured_payload_len <= len(frame)
            assert d.captured_payload_len == d.payload_len == 5     # "hello": what is there


def test_streams_and_udp_conversations_equal_tsharks(tmp_path):
    frames = [f for f, _r, _k in CASES] * 3
    path = craft.write(tmp_path, "lengths.pcap",
                       craft.pcap_bytes([(i, 0, f) for i, f in enumerate(frames)]))
    rows = [line.split("\t") for line in _tshark(
        path, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream", "-e", "udp.stream"
    ).splitlines()]
    assert len(rows) == len(frames)
    eng = analyze_file(path, sidecar=None)
    assert eng.packet_count == len(frames)
    for i, (frame, (_n, tcp_s, udp_s)) in enumerate(zip(frames, rows)):
        theirs = tcp_s or udp_s
        ours = eng.index.stream[i]
        assert (str(ours) if ours >= 0 else "") == theirs, (i + 1, decode_frame(1, frame).malformed)
    conv = [line for line in _tshark(path, "-q", "-z", "conv,udp").splitlines() if "<->" in line]
    udp_streams = {eng.index.stream[i] for i, f in enumerate(frames)
                   if decode_frame(1, f).transport == "udp" and eng.index.stream[i] >= 0}
    assert len(conv) == len(udp_streams) == 5
