"""Live capture loss on loopback: wirelab capture vs tcpdump on the same traffic, same run.

    python3 benchmarks/bench_live.py [--rates 5000,20000,50000] [--seconds 2] [--scapy]

For each rate a paced UDP sender (its own process) sends rate*seconds datagrams to a free
port on 127.0.0.1 while `tcpdump -U -w` and `wirelab capture -w` both capture
"udp port P".  Loss = packets tcpdump saw that wirelab did not.  Needs root.
--scapy adds, in the same run, Scapy's default sniff(filter=..., store=False) counting
the packets (the path the design keeps out of the hot loop).
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from analyzer.sources.pcapfile import read_pcap  # noqa: E402

SENDER = r"""
import os, socket, sys, time
try:
    os.nice(-5)      # the traffic generator must reach its rate on a busy 2-core machine
except OSError:
    pass
port, rate, total = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
payload = b"x" * 64
dst = ("127.0.0.1", port)
sent = 0
t0 = time.perf_counter()
while sent < total:
    target = min(total, int((time.perf_counter() - t0) * rate) + 1)
    while sent < target:
        try:
            s.sendto(payload, dst)
        except BlockingIOError:
            break
        sent += 1
    time.sleep(0.0005)
el = time.perf_counter() - t0
print(sent, el)
"""


SCAPY_SNIFF = r"""
import sys, time
from scapy.all import conf, sniff
n = 0
def count(_pkt):
    global n
    n += 1
print("sniffing", file=sys.stderr, flush=True)
sniff(iface="lo", filter=sys.argv[1], prn=count, store=False, timeout=float(sys.argv[2]))
print(n)
"""


def _wait_for(proc, needle: str, timeout: float = 15.0) -> None:
    """Read stderr lines until `needle` appears (the capture is up)."""
    deadline = time.monotonic() + timeout
    buf = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        buf += line
        if needle in line:
            return
    raise RuntimeError(f"capture did not start: {buf!r}")


def count(path: str) -> int:
    return sum(1 for _ in read_pcap(path))


def one_rate(rate: int, seconds: float, tmp: str, scapy: bool = False) -> dict:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    port = sink.getsockname()[1]
    bpf = f"udp port {port}"
    td_path = os.path.join(tmp, f"tcpdump-{rate}.pcap")
    wl_path = os.path.join(tmp, f"wirelab-{rate}.pcap")
    td = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-B", "32768", "-w", td_path, bpf],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_for(td, "listening on")
    wl = subprocess.Popen([sys.executable, "-m", "analyzer", "capture", "-i", "lo", "-f", bpf,
                           "-w", wl_path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    _wait_for(wl, "capturing on")
    sc = None
    if scapy:
        sc = subprocess.Popen([sys.executable, "-c", SCAPY_SNIFF, bpf, str(seconds + 3.0)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for(sc, "sniffing")
        time.sleep(1.0)          # sniff() opens its socket after the print
    total = int(rate * seconds)
    out = subprocess.run([sys.executable, "-c", SENDER, str(port), str(rate), str(total)],
                         capture_output=True, text=True, check=True).stdout.split()
    sent, elapsed = int(out[0]), float(out[1])
    time.sleep(1.0)
    for p in (td, wl):
        p.send_signal(signal.SIGINT)
    wl_err = wl.communicate(timeout=30)[1]
    td.communicate(timeout=30)
    sink.close()
    n_td, n_wl = count(td_path), count(wl_path)
    n_sc = int(sc.communicate(timeout=60)[0].split()[-1]) if sc is not None else None
    kernel_dropped = next((int(l.split()[0]) for l in wl_err.splitlines()
                           if l.endswith("packets dropped")), -1)
    return {"rate": rate, "sent": sent, "achieved_rate": round(sent / elapsed),
            "tcpdump": n_td, "wirelab": n_wl, "wirelab_reported_dropped": kernel_dropped,
            "loss_pct_vs_tcpdump": round(100.0 * max(0, n_td - n_wl) / max(1, n_td), 3),
            "scapy_sniff": n_sc}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="5000,20000,50000")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--scapy", action="store_true", help="also count with Scapy's sniff()")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_live: needs root (live capture)", file=sys.stderr)
        return 3
    with tempfile.TemporaryDirectory() as tmp:
        extra = " Scapy sniff() | Scapy loss |" if args.scapy else ""
        print("| target pps | achieved pps | sent | tcpdump | wirelab | wirelab dropped "
              "(kernel) | loss vs tcpdump |" + extra)
        print("|---|---|---|---|---|---|---|" + ("---|---|" if args.scapy else ""))
        for rate in (int(r) for r in args.rates.split(",")):
            r = one_rate(rate, args.seconds, tmp, args.scapy)
            line = (f"| {r['rate']} | {r['achieved_rate']} | {r['sent']} | {r['tcpdump']} | "
                    f"{r['wirelab']} | {r['wirelab_reported_dropped']} | "
                    f"{r['loss_pct_vs_tcpdump']} % |")
            if args.scapy:
                sc = r["scapy_sniff"]
                line += (f" {sc} | "
                         f"{round(100.0 * max(0, r['tcpdump'] - sc) / max(1, r['tcpdump']), 1)} % |")
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
