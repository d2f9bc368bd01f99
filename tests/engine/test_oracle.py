"""tshark as the oracle: reassembled bytes (follow) and stream numbering agree."""
import random
import shutil
import subprocess

import pytest

from analyzer.engine import analyze_file
from tests.engine.craft import Conn, lenmsg, write

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")


def tshark_follow(path, stream):
    out = subprocess.run(["tshark", "-r", path, "-qz", f"follow,tcp,raw,{stream}"],
                         capture_output=True, text=True, timeout=60).stdout
    c2s, s2c = bytearray(), bytearray()
    body = out.split("Node 1:", 1)[1].split("\n", 1)[1]
    for line in body.splitlines():
        if line.startswith("===="):
            break
        if line.startswith("\t"):
            s2c += bytes.fromhex(line.strip())
        elif line.strip():
            c2s += bytes.fromhex(line.strip())
    return bytes(c2s), bytes(s2c)


def our_follow(eng, stream):
    conv = eng.conversation("tcp", stream)
    chunks = eng.follow(conv)
    return (b"".join(ch.data for ch in chunks if ch.direction == "c2s"),
            b"".join(ch.data for ch in chunks if ch.direction == "s2c"))


def test_follow_matches_tshark_with_reordering_and_duplicates(tmp_path):
    rng = random.Random(3)
    pkts = []
    for k in range(3):                          # three connections, same ports reused
        c = Conn(cport=41000, c_isn=rng.getrandbits(32), s_isn=rng.getrandbits(32)).handshake()
        c.t += k * 10
        data = b"".join(lenmsg(bytes([65 + k]) * rng.randrange(1, 60)) for _ in range(6))
        segs, pos = [], 0
        while pos < len(data):
            n = rng.randrange(1, 40)
            segs.append(c.segment(0, data[pos:pos + n]))
            pos += n
        order = segs[:]
        rng.shuffle(order)
        c.pkts += order + [segs[0], segs[-1]]
        c.send(1, b"".join(lenmsg(b"ok%d" % i) for i in range(3)), sizes=[5, 5, 5, 6])
        c.fin()
        pkts += c.pkts
    path = write(tmp_path / "oracle.pcap", pkts)
    eng = analyze_file(path)
    assert len(eng.conversations) == 3
    for s in range(3):
        assert our_follow(eng, s) == tshark_follow(path, s)
    # stream numbers agree packet by packet
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "tcp.stream"],
                         capture_output=True, text=True, timeout=60).stdout.split()
    assert [int(x) for x in out] == [eng.stream_of(n) for n in range(1, eng.packet_count + 1)]


BUNDLED = sorted(__import__("glob").glob(
    __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "..", "captures", "*.pcap")))


@pytest.mark.skipif(not BUNDLED, reason="no bundled captures")
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.rsplit("/", 1)[-1])
def test_bundled_captures_follow_and_streams_match_tshark(path):
    eng = analyze_file(path)
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "tcp.stream", "-e", "udp.stream"],
                         capture_output=True, text=True, timeout=60).stdout.splitlines()
    assert len(out) == eng.packet_count
    for n, line in enumerate(out, 1):
        tcp, _, udp = line.partition("\t")
        want = int(tcp) if tcp else (int(udp) if udp.strip() else None)
        assert eng.stream_of(n) == want, n
    for conv in eng.conversations:
        if conv.transport == "tcp":
            assert our_follow(eng, conv.id) == tshark_follow(path, conv.id), conv.id
            # every message's bytes lie inside the stream, in order, without overlap
            for d in ("c2s", "s2c"):
                ms = [m for m in conv.messages if m.direction == d]
                assert all(a.offset + a.length == b.offset for a, b in zip(ms, ms[1:]))
