"""Tunnels and link types decoded to the innermost TCP/UDP header, against tshark: crafted
frames (tests/decode/encapsulation.py) in one pcapng; packet count, innermost ports and the
engine's tcp.stream / udp.stream equal tshark's (VXLAN aside: tshark also numbers the outer
UDP 4789 conversation, which the test leaves out of its numbering)."""
from __future__ import annotations

import subprocess

from analyzer.decode import decode_frame
from analyzer.engine.loader import analyze_file
from analyzer.sources import linktypes
from tests.decode.encapsulation import CASES, UNDECODED, inner_udp4, nflog
from tests.sources import craft


def _pcapng(tmp_path, frames: list[tuple[int, bytes]], e: str = "<") -> str:
    links = sorted({lt for lt, _ in frames})
    blocks = [craft.shb(e)] + [craft.idb(e, lt) for lt in links]
    blocks += [craft.epb(e, links.index(lt), 1000 * (i + 1), f) for i, (lt, f) in enumerate(frames)]
    return craft.write(tmp_path, "encap.pcapng", b"".join(blocks))


def _tshark(path: str) -> list[list[str]]:
    out = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number",
                          "-e", "tcp.stream", "-e", "udp.stream", "-e", "tcp.srcport",
                          "-e", "udp.srcport", "-e", "tcp.dstport", "-e", "udp.dstport"],
                         capture_output=True, text=True, timeout=60).stdout
    return [line.split("\t") for line in out.splitlines()]


def _innermost(field: str) -> str:
    return field.split(",")[-1]


def _renumber(ids: list[str]) -> list[int | None]:
    """Stream ids in order of first appearance (0, 1, ...): tshark's outer VXLAN
    conversations take numbers the innermost view does not have."""
    seen: dict[str, int] = {}
    return [None if not s else seen.setdefault(s, len(seen)) for s in ids]


def test_every_encapsulation_reaches_the_innermost_header_as_tshark(tmp_path):
    frames = [(lt, f) for _name, lt, f in CASES] * 2          # twice: same conversation again
    path = _pcapng(tmp_path, frames)
    oracle = _tshark(path)
    assert len(oracle) == len(frames)
    eng = analyze_file(path, sidecar=None)
    assert eng.packet_count == len(frames)
    ours_tcp, ours_udp, theirs_tcp, theirs_udp = [], [], [], []
    for i, ((lt, f), row) in enumerate(zip(frames, oracle)):
        name = CASES[i % len(CASES)][0]
        d = decode_frame(lt, f)
        assert d.malformed is None and d.undecoded is None, name
        _num, tcp_s, udp_s, tsp, usp, tdp, udp_dp = row
        if d.transport == "tcp":
            assert (str(d.sport), str(d.dport)) == (_innermost(tsp), _innermost(tdp)), name
        else:
            assert (str(d.sport), str(d.dport)) == (_innermost(usp), _innermost(udp_dp)), name
        stream = eng.index.stream[i]
        assert stream >= 0, name
        ours_tcp.append(str(stream) if d.transport == "tcp" else "")
        ours_udp.append(str(stream) if d.transport == "udp" else "")
        theirs_tcp.append(_innermost(tcp_s) if d.transport == "tcp" else "")
        theirs_udp.append(_innermost(udp_s) if d.transport == "udp" else "")
    assert _renumber(ours_tcp) == _renumber(theirs_tcp)
    assert _renumber(ours_udp) == _renumber(theirs_udp)
    assert ours_tcp == theirs_tcp                    # no outer TCP conversations: same ids


def test_nflog_from_a_big_endian_host(tmp_path):
    """TLV lengths and types in the capturing host's order: a big-endian file, big-endian TLVs."""
    frame = nflog(2, inner_udp4(sport=33007), endian=">")
    d = decode_frame(239, frame)
    assert (d.transport, d.sport, d.dport) == ("udp", 33007, 53)
    oracle = _tshark(_pcapng(tmp_path, [(239, frame)], e=">"))
    assert [row[2] for row in oracle] == ["0"]


def test_what_is_not_decoded_is_named(tmp_path):
    for name, lt, f, what in UNDECODED:
        d = decode_frame(lt, f)
        assert d.undecoded == what, name
        assert d.payload_offset == -1 and d.transport not in ("tcp", "udp"), name
    path = _pcapng(tmp_path, [(lt, f) for _n, lt, f, _w in UNDECODED])
    oracle = _tshark(path)                           # tshark reads them all, no TCP/UDP either
    assert len(oracle) == len(UNDECODED)
    assert all(not any(row[1:]) for row in oracle), oracle


def test_plain_frames_have_no_undecoded_mark():
    frame = CASES[0][2]
    assert decode_frame(1, frame).undecoded is None
    arp = bytes(12) + b"\x08\x06" + bytes.fromhex("0001080006040001") + bytes(20)
    assert decode_frame(1, arp).undecoded is None and decode_frame(1, arp).transport == "arp"


def test_summary_help_lists_the_link_types_not_decoded():
    out = subprocess.run(["python3", "-m", "analyzer", "summary", "--help"], capture_output=True,
                         text=True, timeout=60).stdout
    flat = " ".join(out.split())
    assert "802.11 radiotap (127)" in flat and "IP over InfiniBand (242)" in flat
    for lt in linktypes.NOT_DECODED:
        assert f"({lt})" in flat
        assert lt not in linktypes.SUPPORTED
