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
