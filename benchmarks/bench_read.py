"""Read + decode throughput on a ~1M-packet capture, against Scapy and tshark, in one run.

    python3 benchmarks/bench_read.py [--capture /tmp/wirelab-bench.pcap] [--packets 1000000]
                                     [--repeat 3]

Measures, each in a fresh child process (so peak RSS is its own):
  read          open_capture + iterate Records
  read+decode   ... + decode_frame on every record (a full analyzer.decode.decoded.Decoded)
  read+index    ... + decode + PacketIndex.append (the engine's per-packet columns)
  scapy         scapy PcapReader on a 20k-packet slice (full Scapy dissection)
  tshark        `tshark -n -r FILE -q -z io,stat,0` (read, dissect, count)
and prints packets/s and the ratios.  The capture is generated with gen_capture.py if missing.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_CHILD = r'''
import json, resource, sys, time
sys.path.insert(0, {root!r})
mode, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
n = 0
extra = {{}}
if mode == "scapy":
    from scapy.utils import PcapReader
    with PcapReader(path) as r:
        for p in r:
            n += 1
else:
    from analyzer.sources.open import open_capture
    from analyzer.decode import decode_frame
    from analyzer.engine.packet_index import PacketIndex
    src = open_capture(path)
    if mode == "read":
        for rec in src:
            n += 1
    elif mode == "decode":
        for rec in src:
            decode_frame(rec[1], rec[2], rec[3])
            n += 1
    else:
        idx = PacketIndex()
        app = idx.append
        for rec in src:
            ts, lt, data, orig, off = rec
            d = decode_frame(lt, data, orig)
            app(ts, off, len(data), orig, lt, -1, -1, d.flags, 0, d.payload_len)
            n += 1
        extra["index_mb"] = idx.memory_bytes() / 1e6
    extra["warnings"] = len(src.warnings)
dt = time.perf_counter() - t0
print(json.dumps(dict(n=n, seconds=dt, rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra)))
'''


def child(mode: str, path: str) -> dict:
    code = _CHILD.format(root=ROOT)
    out = subprocess.run([sys.executable, "-c", code, mode, path], capture_output=True,
                         text=True, timeout=1800, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_slice(src_path: str, dst_path: str, count: int) -> int:
    sys.path.insert(0, ROOT)
    from analyzer.sources.open import open_capture
    from analyzer.sources.pcapwriter import PcapWriter
    n = 0
    with open_capture(src_path) as src, PcapWriter(dst_path, linktype=1) as w:
        for rec in src:
            w.write(rec.ts, rec.data, rec.origlen)
            n += 1
            if n >= count:
                break
    return n


def run_tshark(path: str) -> dict:
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(["tshark", "-n", "-r", path, "-q", "-z", "io,stat,0"],
                         capture_output=True, text=True, timeout=3600)
    dt = time.perf_counter() - t0
    frames = 0
    for line in out.stdout.splitlines():
        parts = [p.strip() for p in line.split("|") if p.strip()]
        if len(parts) >= 3 and "<>" in parts[0] and parts[1].isdigit():
            frames = int(parts[1])
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return dict(n=frames, seconds=dt, rss_mb=max(rss, before) / 1024)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="read+decode throughput vs Scapy and tshark")
    ap.add_argument("--capture", default="/tmp/wirelab-bench.pcap")
    ap.add_argument("--packets", type=int, default=1_000_000, help="when generating")
    ap.add_argument("--slice", type=int, default=20_000, help="packets for the Scapy run")
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each measurement N times, keep the fastest (shared machines)")
    a = ap.parse_args(argv)
    if not os.path.exists(a.capture):
        sys.path.insert(0, HERE)
        import gen_capture
        gen_capture.generate(a.capture, a.packets)
    slice_path = a.capture + f".slice{a.slice}.pcap"
    make_slice(a.capture, slice_path, a.slice)
    size_mb = os.path.getsize(a.capture) / 1e6
    res: dict[str, dict] = {}

    def keep(name: str, r: dict) -> None:
        if name not in res or r["seconds"] < res[name]["seconds"]:
            res[name] = r

    for _ in range(max(1, a.repeat)):       # interleaved, so load bursts hit every tool
        for mode in ("read", "decode", "index"):
            keep(mode, child(mode, a.capture))
        keep("scapy", child("scapy", slice_path))
        if not a.no_tshark:
            keep("tshark", run_tshark(a.capture))
    os.unlink(slice_path)
    n = res["read"]["n"]
    print(f"capture: {a.capture}  {n} packets  {size_mb:.0f} MB  (python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpus, best of {max(1, a.repeat)}, load average "
          f"{os.getloadavg()[0]:.1f})")
    print(f"{'what':<34}{'packets':>10}{'seconds':>10}{'packets/s':>12}{'peak RSS MB':>13}")
    names = {"read": "wirelab read (open_capture)", "decode": "wirelab read + decode_frame",
             "index": "wirelab read + decode + PacketIndex", "scapy": f"Scapy PcapReader ({a.slice} slice)",
             "tshark": "tshark -r -q -z io,stat,0"}
    for k, r in res.items():
        rate = r["n"] / r["seconds"] if r["seconds"] else 0
        r["rate"] = rate
        print(f"{names[k]:<34}{r['n']:>10}{r['seconds']:>10.2f}{rate:>12,.0f}{r['rss_mb']:>13.0f}")
    if "index_mb" in res["index"]:
        print(f"PacketIndex columns: {res['index']['index_mb']:.1f} MB "
              f"({res['index']['index_mb'] * 1e6 / n:.1f} bytes/packet)")
    dec = res["decode"]
    print(f"ratio read+decode vs Scapy (packets/s): {dec['rate'] / res['scapy']['rate']:.0f}x faster")
    if "tshark" in res:
        t = res["tshark"]
        print(f"ratio read+decode time / tshark time: {dec['seconds'] / t['seconds']:.2f} "
              f"(tshark {t['seconds']:.2f} s, {t['n']} frames)")
        print(f"ratio read+decode+index time / tshark time: "
              f"{res['index']['seconds'] / t['seconds']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
