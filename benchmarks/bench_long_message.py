"""`packets --json` against `summary --json` on one big message carried by many packets.

One TCP connection to 127.0.0.1:9001 carries one lenmsg message of SIZE bytes cut into
SEGMENT-byte segments (16 MiB / 700 = ~24k packets).  Per-packet output must cost the same
whatever the message's packet count: `packets --json` should take at most ~2x `summary`.

    python3 benchmarks/bench_long_message.py [--size 16777216] [--segment 700]
"""
from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time

_IP = struct.Struct("!BBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIBBHHH")
_REC = struct.Struct("<IIII")
ETH = bytes(12) + b"\x08\x00"
LO = bytes([127, 0, 0, 1])


def _frame(sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes) -> bytes:
    tcp = _TCP.pack(sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    ip = _IP.pack(0x45, 0, 20 + len(tcp) + len(payload), 1, 0x4000, 64, 6, 0, LO, LO)
    return ETH + ip + tcp + payload


def write_capture(path: str, size: int, segment: int) -> int:
    """One connection, one lenmsg message of `size` bytes in `segment`-byte segments."""
    c, s = 40000, 9001
    cseq, sseq = 1000, 5000
    frames = [_frame(c, s, cseq, 0, 0x02, b""), _frame(s, c, sseq, cseq + 1, 0x12, b""),
              _frame(c, s, cseq + 1, sseq + 1, 0x10, b"")]
    data = struct.pack("!I", size) + bytes(range(256)) * (size // 256) + bytes(size % 256)
    seq = cseq + 1
    for pos in range(0, len(data), segment):
        frames.append(_frame(c, s, seq, sseq + 1, 0x18, data[pos:pos + segment]))
        seq += len(data[pos:pos + segment])
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for k, fr in enumerate(frames):
            f.write(_REC.pack(1700000000, k, len(fr), len(fr)))
            f.write(fr)
    return len(frames)


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=16 << 20)
    ap.add_argument("--segment", type=int, default=700)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "long.pcap")
        n = write_capture(path, args.size, args.segment)
        wl = [sys.executable, "-m", "analyzer"]
        summary = timed(wl + ["summary", path, "--json"])
        packets = timed(wl + ["packets", path, "--json"])
        text = timed(wl + ["packets", path])
    print(f"{n} packets, one message of {args.size} bytes")
    print(f"summary --json   {summary:7.2f} s")
    print(f"packets --json   {packets:7.2f} s  ({packets / summary:.2f}x summary)")
    print(f"packets (text)   {text:7.2f} s  ({text / summary:.2f}x summary)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
