"""Full-analysis benchmark: `wirelab summary --json` vs `tshark -q -z conv,tcp` on one capture.

    python3 benchmarks/bench_analysis.py                 # ~1M packets, /tmp/wirelab-bench.pcap
    python3 benchmarks/bench_analysis.py -n 200000 --runs 3

Writes a deterministic capture with benchmarks/gen_capture.py (thousands of lenmsg TCP
connections: handshake, small messages both ways, some coalesced/split, FIN), then runs, in
the same run, each as a child process measured with os.wait4 (wall time, CPU time and the
child's own peak RSS):
  * wirelab summary --json FILE        (the whole analysis: flows, TCP analysis, reassembly,
                                        messages, JSON out; by default in several processes
                                        for big files: analyzer/parallel.py)
  * wirelab summary --json --jobs 1    (the same in one process)
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
    """Run cmd; wall seconds, user+sys CPU seconds (its waited-for children included) and
    peak RSS in MB (the largest of it and its children, as Linux reports for wait4)."""
    report = f"/tmp/wirelab-bench-rusage-{os.getpid()}.json"
    if os.path.exists(report):
        os.unlink(report)
    env = dict(os.environ if env is None else env, WIRELAB_RUSAGE_REPORT=report)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    _pid, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {err.strip()[-500:]}")
    out = {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024}
    # a parallel `wirelab summary` writes each process's own peak RSS (analyzer.parallel):
    # the process tree's peak is at most their sum (wait4 only gives the largest of them)
    out["tree_rss_mb"] = out["rss_mb"]
    out["processes"] = 1
    if os.path.exists(report):
        with open(report) as f:
            rep = json.load(f)
        os.unlink(report)
        out["tree_rss_mb"] = rep["sum_maxrss_kb"] / 1024
        out["tree_pss_mb"] = rep.get("sum_pss_kb", 0) / 1024
        out["processes"] = len(rep["processes"])
    return out


def generate(path: str, packets: int) -> None:
    gen = os.path.join(HERE, "gen_capture.py")
    if not os.path.exists(gen):
        gen = os.path.join(HERE, "gen_capture_fallback.py")
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
    wl1_cmd = wl_cmd + ["--jobs", "1"]
    ts_cmd = ["tshark", "-q", "-z", "conv,tcp", "-r", a.capture]
    wl, wl1, ts = [], [], []
    for _ in range(a.runs):
        wl.append(measure(wl_cmd, env=env))
        wl1.append(measure(wl1_cmd, env=env))
        if shutil.which("tshark"):
            ts.append(measure(ts_cmd))
    out = subprocess.run([sys.executable, "-c", SCAPY_SLICE, a.capture, str(a.scapy_slice)],
                         capture_output=True, text=True, check=True)
    scapy_rate = float(out.stdout.strip())
    # packets in the file (from wirelab's own JSON, one more run with output kept)
    js = subprocess.run(wl_cmd, capture_output=True, text=True, env=env, check=True).stdout
    import json
    doc = json.loads(js)
    packets, convs = doc["packets"], len(doc["conversations"])
    msgs = sum(len(c["messages"]) for c in doc["conversations"])
    w = best(wl)
    w1 = best(wl1)
    print(f"capture: {a.capture}  {size_mb:.0f} MB, {packets} packets, {convs} conversations, "
          f"{msgs} messages   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'tool':<34} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'packets/s':>10} "
          f"{'tree MB':>8} {'procs':>5}")
    print(f"{'wirelab summary --json (default)':<34} {w['wall']:8.2f} {w['cpu']:8.2f} "
          f"{w['rss_mb']:8.0f} {packets / w['wall']:10.0f} {w['tree_rss_mb']:8.0f} "
          f"{w['processes']:5d}")
    print(f"{'wirelab summary --json --jobs 1':<34} {w1['wall']:8.2f} {w1['cpu']:8.2f} "
          f"{w1['rss_mb']:8.0f} {packets / w1['wall']:10.0f} {w1['tree_rss_mb']:8.0f} "
          f"{w1['processes']:5d}")
    if ts:
        t = best(ts)
        print(f"{'tshark -q -z conv,tcp':<34} {t['wall']:8.2f} {t['cpu']:8.2f} {t['rss_mb']:8.0f} "
              f"{packets / t['wall']:10.0f}")
    print(f"{'scapy PcapReader (slice)':<34} {a.scapy_slice / scapy_rate:8.2f} {'':>8} {'':>8} "
          f"{scapy_rate:10.0f}   -> {packets / scapy_rate:.0f} s for the whole file")
    if w.get("tree_pss_mb"):
        print(f"parallel run: {w['processes']} processes, sum of their peak RSS "
              f"{w['tree_rss_mb']:.0f} MB (pages shared through fork counted in each), sum of "
              f"their PSS at the end of the analysis {w['tree_pss_mb']:.0f} MB")
    if ts:
        for name, r in (("default", w), ("--jobs 1", w1)):
            print(f"ratios wirelab ({name})/tshark: wall {r['wall'] / t['wall']:.2f}x "
                  f"(target <= 0.5), cpu {r['cpu'] / t['cpu']:.2f}x, peak memory "
                  f"{r['rss_mb'] / t['rss_mb']:.2f}x, process tree (sum of peaks) "
                  f"{r['tree_rss_mb'] / t['rss_mb']:.2f}x (target <= 0.33)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
