"""Pass 1 sends every packet of a conversation to one partition (the packets the
conversation table does not take to partition 0) whether the frame takes the vectorised
path or the per-packet decoder; the Dask summary of awkward captures (tunnels, fragments,
cut headers, IPv6, VLAN, cooked loopback twins, the lab's captures with their sidecars) is
the one-process summary; the partitions are shared out over both workers."""
from __future__ import annotations

import gzip
import io
import struct
import subprocess
from pathlib import Path

import pytest
from distributed import get_task_stream
from scapy.all import ARP, IP, TCP, UDP, Dot1Q, Ether, IPOption_NOP, IPv6, Raw
from scapy.layers.vxlan import VXLAN

from analyzer.distributed.partition import endpoint_key, file_pass, part_of_key
from analyzer.distributed.run import summary_on_dask
from analyzer.engine import analyze_file
from analyzer.engine.loader import display_name
from analyzer.render.summary_json import write_summary_json
from analyzer.sources import sidecar
from analyzer.sources.open import open_capture
from tests.distributed.test_merged_and_dask import one_process, records, split
from tests.engine.craft import Conn, lenmsg, write_cooked

ROOT = Path(__file__).resolve().parents[2]
A, B = "10.1.0.1", "10.1.0.2"


def eth(**kw) -> Ether:
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", **kw)   # no ARP lookup


def _tcp(sport: int, flags: str = "PA", payload: bytes = b"", reply: bool = False, **ip):
    src, dst, sp, dp = (B, A, 9001, sport) if reply else (A, B, sport, 9001)
    return eth() / IP(src=src, dst=dst, **ip) / TCP(sport=sp, dport=dp, flags=flags) / payload


def awkward_frames() -> list[tuple[bytes, int]]:
    """(frame, origlen) of packets each taking a different road through the decoder."""
    frames = []
    for round_ in range(3):
        for port in range(40000, 40012):
            frames.append(_tcp(port, "S"))
            frames.append(_tcp(port, "SA", reply=True))
            frames.append(_tcp(port, payload=lenmsg(b"x" * round_)))
        frames += [
            _tcp(41000, options=[IPOption_NOP()] * 4),                  # IP options
            _tcp(41000, reply=True, flags="A"),
            eth() / IP(src=A, dst=B, flags="MF", proto=6) / Raw(bytes(24)),  # first fragment
            eth() / IP(src=A, dst=B, frag=3, proto=6) / Raw(bytes(16)),      # later fragment
            eth() / IP(src=A, dst=B) / UDP(sport=5000, dport=5001) / b"dgram",
            eth() / IP(src=B, dst=A) / UDP(sport=5001, dport=5000) / b"DGRAM",
            eth() / IP(src=A, dst=B) / UDP(sport=6000, dport=4789) / VXLAN(vni=7)
            / eth() / IP(src="192.168.0.1", dst="192.168.0.2") / TCP(sport=1, dport=2),
            eth() / IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=42000, dport=80),
            eth() / IPv6(src="fd00::2", dst="fd00::1") / TCP(sport=80, dport=42000, flags="SA"),
            eth() / Dot1Q(vlan=5) / IP(src=A, dst=B) / TCP(sport=43000, dport=80),
            eth() / ARP(psrc=A, pdst=B),
            eth(type=0x88CC) / Raw(bytes(30)),                          # LLDP: not decoded
            eth() / IP(src=A, dst=B) / TCP(sport=44000, dport=9001, dataofs=4),  # bad length
        ]
    out = [(bytes(f), len(bytes(f))) for f in frames]
    cut = bytes(_tcp(45000, payload=b"z" * 30))
    out += [(cut[:50], len(cut)), (cut[:40], len(cut)), (cut[:50], 50)]   # headers cut short
    return out


def write_frames(path: Path, frames: list[tuple[bytes, int]]) -> str:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for k, (frame, origlen) in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + k // 1000, (k % 1000) * 1000, len(frame),
                                origlen) + frame)
    return str(path)


def as_format(files: list[str], fmt: str) -> list[str]:
    """The files rewritten as pcapng (editcap) or gzip-compressed pcap."""
    out = []
    for f in files:
        if fmt == "pcapng":
            subprocess.run(["editcap", "-F", "pcapng", f, f + "ng"], check=True)
            out.append(f + "ng")
        elif fmt == "gz":
            Path(f + ".gz").write_bytes(gzip.compress(Path(f).read_bytes()))
            out.append(f + ".gz")
        else:
            out.append(f)
    return out


@pytest.mark.parametrize("parts,fmt", [(2, "pcap"), (4, "pcap"), (7, "pcap"), (4, "pcapng"),
                                       (4, "gz")])
def test_the_vectorised_pass_agrees_with_the_decoder_packet_by_packet(tmp_path, parts, fmt):
    path = as_format([write_frames(tmp_path / "awkward.pcap", awkward_frames())], fmt)[0]
    got = file_pass(path, parts)["part"].tolist()
    src = open_capture(path)
    try:
        buf = src.buffer
        want = [part_of_key(endpoint_key(lt, bytes(buf[pos:pos + cap]), orig), parts)
                for pos, cap, orig, _ts, lt in src.scan_headers()]
    finally:
        src.close()
    assert got == want
    assert len(set(got)) > 1                        # the conversations are spread out


@pytest.mark.parametrize("fmt", ["pcap", "pcapng", "gz"])
def test_awkward_packets_split_over_files_give_the_one_process_summary(tmp_path, client, fmt):
    path = write_frames(tmp_path / "awkward.pcap", awkward_frames())
    n = len(awkward_frames())
    files = as_format(split(path, tmp_path, [n // 3, 2 * n // 3]), fmt)
    merged = one_process(files)
    assert "not decoded" in merged                  # packets the engine does not take
    out = io.StringIO()
    summary_on_dask(client, files, display_name(files), out)
    assert out.getvalue() == merged


def test_cooked_loopback_twins_split_over_files(tmp_path, client):
    pkts = []
    for k in range(6):
        c = Conn(cport=40000 + k, client="127.0.0.1", server="127.0.0.1").handshake()
        c.t += k * 0.0003
        c.send(0, lenmsg(b"twice" * k)).send(1, lenmsg(b"back")).fin()
        pkts += c.pkts
    pkts.sort(key=lambda p: float(p.time))
    path = write_cooked(tmp_path / "twins.pcap", pkts)
    n = 2 * len(pkts)
    files = split(path, tmp_path, [n // 3 + 1, 2 * n // 3])       # a twin pair cut in two
    merged = one_process(files)
    assert '"loopback_duplicates":0,' not in merged
    out = io.StringIO()
    summary_on_dask(client, files, display_name(files), out)
    assert out.getvalue() == merged


def test_a_cooked_copy_is_a_twin_only_of_the_frame_just_before_it_in_the_capture(tmp_path, client):
    """Outgoing copies of two connections, then the incoming copies: in the capture no copy
    follows its twin; in each connection's partition alone, it would."""
    def part(port: int) -> int:
        frame = bytes(eth() / IP(src=A, dst=B) / TCP(sport=port, dport=9001))
        return part_of_key(endpoint_key(1, frame, len(frame)), 4)
    second = next(p for p in range(40001, 41000) if part(p) != part(40000))
    ports = [40000, second]                 # two connections in different partitions
    conns = [Conn(cport=p, client=A, server=B).handshake().send(0, lenmsg(b"hi")).fin()
             for p in ports]
    out = records(write_cooked(tmp_path / "out.pcap", conns[0].pkts + conns[1].pkts, copies=(4,)))
    inc = records(write_cooked(tmp_path / "in.pcap", conns[0].pkts + conns[1].pkts, copies=(0,)))
    (head, o), i = out, inc[1]
    n = len(conns[0].pkts)
    order = [r for k in range(n) for r in (o[k], o[n + k], i[k], i[n + k])]
    path = tmp_path / "cooked.pcap"
    path.write_bytes(head + b"".join(struct.pack("<II", 1700000000, k) + r[8:]
                                     for k, r in enumerate(order)))
    files = split(str(path), tmp_path, [len(order) // 2])
    merged = one_process(files)
    assert '"loopback_duplicates":0,' in merged
    got = io.StringIO()
    summary_on_dask(client, files, display_name(files), got)
    assert got.getvalue() == merged


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "captures").glob("*.pcap")))
def test_lab_captures_with_their_sidecars(name, client):
    path = str(ROOT / "captures" / name)
    want = io.StringIO()
    write_summary_json(analyze_file(path), want)
    out = io.StringIO()
    summary_on_dask(client, [path], path, out, sidecar=sidecar.load_beside(path))
    assert out.getvalue() == want.getvalue()


def test_partitions_are_shared_out_over_both_workers(tmp_path, client):
    files = split(write_frames(tmp_path / "awkward.pcap", awkward_frames()), tmp_path, [100])
    with get_task_stream(client) as stream:
        info = summary_on_dask(client, files, display_name(files), io.StringIO())
    assert info["partitions"] == 4
    ran_on = [t["worker"] for t in stream.data if t["key"].startswith("analyze_partition")]
    assert len(ran_on) == 4
    assert sorted(ran_on.count(w) for w in set(ran_on)) == [2, 2]


def test_a_file_without_packets_in_the_ring(tmp_path, client):
    path = write_frames(tmp_path / "awkward.pcap", awkward_frames())
    n = len(awkward_frames())
    files = split(path, tmp_path, [0, n // 2, n // 2])      # the first and the third empty
    merged = one_process(files)
    out = io.StringIO()
    summary_on_dask(client, files, display_name(files), out)
    assert out.getvalue() == merged
