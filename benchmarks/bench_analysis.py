"""Full-analysis benchmark: `wirelab summary --json` vs `tshark -q -z conv,tcp` on one capture.

    python3 benchmarks/bench_analysis.py                 # ~1M packets, /tmp/wirelab-bench.pcap
    python3 benchmarks/bench_analysis.py -n 200000 --runs 3

Writes a deterministic capture with benchmarks/gen_capture.py (thousands of lenmsg TCP
connections: handshake, small messages both ways, some coalesced/split, FIN), then runs, in
the same run, each as a child process measured with os.wait4 (wall time, CPU time and the
child's own peak RSS):
  * wirelab summary --json FILE        (the whole analysis in one process: flows, TCP
                                        analysis, reassembly, messages, JSON out)
  * tshark -q -z conv,tcp -r FILE       (the anchor)
  * Scapy PcapReader, full dissection, on a slice of the file (per-packet rate)
and prints the ratios wirelab/tshark.  The targets and the latest figures: docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def measure(cmd: list[str], stdout=subprocess.DEVNULL, env=None) -> dict:
    """Run cmd; wall seconds, user+sys CPU seconds and peak RSS in MB (os.wait4)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    _pid, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {err.strip()[-500:]}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024}


def generate(path: str, packets: int) -> None:
    gen = os.path.join(HERE, "gen_capture.py")
    subprocess.run([sys.executable, gen, "-n", str(packets), "-o", path], check=True)


SCAPY_SLICE = """
import sys, time
from scapy.utils import PcapReader
n = int(sys.argv[2]); t = time.perf_counter(); k = 0
for pkt in PcapReader(sys.argv[1]):
    pkt.summary(); k += 1
    if k >= n: break
print(k / (time.perf_counter() - t))
"""


def best(runs: list[dict]) -> dict:
    """The run with the least wall time (the least disturbed by other load)."""
    return min(runs, key=lambda r: r["wall"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--packets", type=int, default=1_000_000)
    ap.add_argument("-o", "--capture", default="/tmp/wirelab-bench.pcap")
    ap.add_argument("--runs", type=int, default=1, help="runs of each tool (best wall time kept)")
    ap.add_argument("--scapy-slice", type=int, default=20000, help="packets Scapy dissects")
    ap.add_argument("--regenerate", action="store_true")
    a = ap.parse_args(argv)
    if a.regenerate or not os.path.exists(a.capture):
        generate(a.capture, a.packets)
    size_mb = os.path.getsize(a.capture) / 1e6
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    wl_cmd = [sys.executable, "-m", "analyzer", "summary", "--json", a.capture]
    ts_cmd = ["tshark", "-q", "-z", "conv,tcp", "-r", a.capture]
    wl, ts = [], []
    for _ in range(a.runs):
        wl.append(measure(wl_cmd, env=env))
        if shutil.which("tshark"):
            ts.append(measure(ts_cmd))
    out = subprocess.run([sys.executable, "-c", SCAPY_SLICE, a.capture, str(a.scapy_slice)],
                         capture_output=True, text=True, check=True)
    scapy_rate = float(out.stdout.strip())
    # packets in the file (from wirelab's own JSON, one more run with output kept)
    js = subprocess.run(wl_cmd, capture_output=True, text=True, env=env, check=True).stdout
    doc = json.loads(js)
    packets, convs = doc["packets"], len(doc["conversations"])
    msgs = sum(len(c["messages"]) for c in doc["conversations"])
    w = best(wl)
    print(f"capture: {a.capture}  {size_mb:.0f} MB, {packets} packets, {convs} conversations, "
          f"{msgs} messages   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'tool':<34} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'packets/s':>10}")
    print(f"{'wirelab summary --json':<34} {w['wall']:8.2f} {w['cpu']:8.2f} "
          f"{w['rss_mb']:8.0f} {packets / w['wall']:10.0f}")
    if ts:
        t = best(ts)
        print(f"{'tshark -q -z conv,tcp':<34} {t['wall']:8.2f} {t['cpu']:8.2f} {t['rss_mb']:8.0f} "
              f"{packets / t['wall']:10.0f}")
    print(f"{'scapy PcapReader (slice)':<34} {a.scapy_slice / scapy_rate:8.2f} {'':>8} {'':>8} "
          f"{scapy_rate:10.0f}   -> {packets / scapy_rate:.0f} s for the whole file")
    if ts:
        print(f"ratios wirelab/tshark: wall {w['wall'] / t['wall']:.2f}x (target <= 0.20), "
              f"cpu {w['cpu'] / t['cpu']:.2f}x, peak memory {w['rss_mb'] / t['rss_mb']:.2f}x "
              f"(target <= 0.25)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
