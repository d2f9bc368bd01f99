"""Write a deterministic ~1M-packet pcap of thousands of loopback TCP connections (lenmsg).

Each connection: SYN, SYN-ACK, ACK; rounds of a lenmsg request (client -> 127.0.0.1:9001),
the upper-cased reply, and the client's ACK; sometimes two requests coalesced in one segment
or one request split over two; then FIN/ACK, FIN/ACK, ACK.  Several connections run
interleaved.  Bytes are written directly with struct (no Scapy): ~1M packets in seconds.

    python3 benchmarks/gen_capture.py -n 1000000 -o /tmp/bench.pcap
"""
from __future__ import annotations

import argparse
import random
import struct
import sys
import time

ETH = bytes(12) + b"\x08\x00"
_IP = struct.Struct("!BBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIBBHHH")
_TSOPT = struct.Struct("!BBBBII")
_REC = struct.Struct("<IIII")
LOOPBACK = bytes([127, 0, 0, 1])
SERVER_PORT = 9001
SYN, FIN, PSH, ACK = 0x02, 0x01, 0x08, 0x10


def _checksum(b: bytes) -> int:
    s = sum(struct.unpack("!10H", b))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Conn:
    """One client connection's state: ports, sequence numbers, planned rounds."""

    def __init__(self, rng: random.Random, cport: int, rounds: int) -> None:
        self.cport = cport
        self.cseq = rng.getrandbits(32)
        self.sseq = rng.getrandbits(32)
        self.rounds = rounds
        self.steps = self._plan(rng)

    def _plan(self, rng: random.Random):
        """Yield (direction, flags, payload) for the whole connection."""
        out = [("c", SYN, b""), ("s", SYN | ACK, b""), ("c", ACK, b"")]
        for _ in range(self.rounds):
            n = rng.randrange(1, 200)
            body = bytes([97 + (n % 26)]) * n
            msg = struct.pack("!I", n) + body
            reply = struct.pack("!I", n) + body.upper()
            r = rng.random()
            if r < 0.05:                      # two requests coalesced in one segment
                out += [("c", PSH | ACK, msg + msg), ("s", PSH | ACK, reply + reply)]
            elif r < 0.10:                    # one request split over two segments
                cut = rng.randrange(1, len(msg))
                out += [("c", PSH | ACK, msg[:cut]), ("s", ACK, b""),
                        ("c", PSH | ACK, msg[cut:]), ("s", PSH | ACK, reply)]
            else:
                out += [("c", PSH | ACK, msg), ("s", PSH | ACK, reply)]
            out.append(("c", ACK, b""))
        out += [("c", FIN | ACK, b""), ("s", FIN | ACK, b""), ("c", ACK, b"")]
        return out


def generate(path: str, packets: int = 1_000_000, seed: int = 1, concurrent: int = 8,
             rounds: int = 30) -> tuple[int, int]:
    """Write the capture; returns (packets written, connections)."""
    rng = random.Random(seed)
    written = 0
    conns_started = 0
    ts_us = 1_700_000_000 * 1_000_000
    active: list[Conn] = []
    pos: list[int] = []
    ipid = 0
    next_port = 20000
    tsval = 1000
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        chunk: list[bytes] = []
        while True:
            if written >= packets - 100:      # budget spent: finish the open connections
                concurrent = 0
            if concurrent == 0 and not active:
                break
            while len(active) < concurrent:
                # the whole budget: stop opening connections near the end
                rnds = rounds + rng.randrange(-rounds // 2, rounds // 2 + 1)
                c = Conn(rng, next_port, rnds)
                next_port = next_port + 1 if next_port < 60999 else 20000
                active.append(c)
                pos.append(0)
                conns_started += 1
            i = rng.randrange(len(active))
            c = active[i]
            direction, flags, payload = c.steps[pos[i]]
            pos[i] += 1
            if direction == "c":
                sport, dport, seq, ack = c.cport, SERVER_PORT, c.cseq, c.sseq
            else:
                sport, dport, seq, ack = SERVER_PORT, c.cport, c.sseq, c.cseq
            if flags == SYN:
                ack = 0
            advance = len(payload) + (1 if flags & (SYN | FIN) else 0)
            if direction == "c":
                c.cseq = (c.cseq + advance) & 0xFFFFFFFF
            else:
                c.sseq = (c.sseq + advance) & 0xFFFFFFFF
            tsval += 1
            if flags & SYN:   # MSS, SACK permitted, timestamps, NOP, window scale 7
                opts = (b"\x02\x04\xff\xd7\x04\x02\x08\x0a" + struct.pack("!II", tsval, 0)
                        + b"\x01\x03\x03\x07")
            else:
                opts = _TSOPT.pack(1, 1, 8, 10, tsval, tsval - 1)
            tcp = _TCP.pack(sport, dport, seq, ack, (20 + len(opts)) // 4 << 4, flags,
                            65483 if flags & SYN else 512, 0, 0) + opts
            total = 20 + len(tcp) + len(payload)
            ipid = (ipid + 1) & 0xFFFF
            hdr = _IP.pack(0x45, 0, total, ipid, 0x4000, 64, 6, 0, LOOPBACK, LOOPBACK)
            hdr = hdr[:10] + struct.pack("!H", _checksum(hdr)) + hdr[12:]
            frame = ETH + hdr + tcp + payload
            ts_us += 7 + (written % 13)
            chunk.append(_REC.pack(ts_us // 1_000_000, ts_us % 1_000_000, len(frame), len(frame)))
            chunk.append(frame)
            written += 1
            if pos[i] == len(c.steps):
                del active[i]
                del pos[i]
            if len(chunk) >= 8192:
                f.write(b"".join(chunk))
                chunk.clear()
        f.write(b"".join(chunk))
    return written, conns_started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--packets", type=int, default=1_000_000, help="packets (about)")
    ap.add_argument("-o", "--output", default="/tmp/wirelab-bench.pcap", help="output pcap")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrent", type=int, default=8, help="interleaved connections")
    ap.add_argument("--rounds", type=int, default=30, help="request/reply rounds per connection (mean)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    n, conns = generate(a.output, a.packets, a.seed, a.concurrent, a.rounds)
    print(f"wrote {n} packets, {conns} connections to {a.output} in "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
