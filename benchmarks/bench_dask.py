"""The distributed summary against one process, on a ring buffer of capture files.

Makes (or reuses) a ring buffer: `gen_capture.py -n PACKETS` cut into FILES consecutive files
(conversations cross file boundaries).  Then times, each as a child process:
  * `wirelab summary DIR --json`                  one process;
  * the same with `--dask tcp://10.98.0.1:8786`   a `dask scheduler` and two `dask worker`s,
    each worker in its own network namespace (wl-dask-a, wl-dask-b) joined by a veth pair,
    standing in for two machines that share the directory (root needed);
  * the Dask path's fixed cost: the same two commands on a small capture.
Prints wall time, the workers' peak RSS, the ratio, and checks the JSON is identical.

    sudo python3 benchmarks/bench_dask.py [-n 5000000] [--files 10] [--dir /tmp/wirelab-ring]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NS = ("wl-dask-a", "wl-dask-b")
ADDR = ("10.98.0.1", "10.98.0.2")
SCHEDULER = f"tcp://{ADDR[0]}:8786"


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def make_ring(directory: str, packets: int, files: int) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    names = sorted(n for n in os.listdir(directory) if n.endswith(".pcap"))
    if len(names) == files:
        return [os.path.join(directory, n) for n in names]
    for n in names:
        os.remove(os.path.join(directory, n))
    whole = os.path.join(directory, ".whole.pcap")
    subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gen_capture.py"), "-n",
                    str(packets), "-o", whole], check=True)
    with open(whole, "rb") as f:
        head = f.read(24)
        data = f.read()
    os.remove(whole)
    offsets, pos = [], 0
    while pos + 16 <= len(data):
        offsets.append(pos)
        pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
    offsets.append(pos)
    out = []
    per = (len(offsets) - 1) // files
    for k in range(files):
        a = offsets[k * per]
        b = offsets[(k + 1) * per] if k < files - 1 else offsets[-1]
        path = os.path.join(directory, f"ring_{k:05d}_20261130{k:06d}.pcap")
        with open(path, "wb") as f:
            f.write(head + data[a:b])
        out.append(path)
    return out


def namespaces_up() -> None:
    namespaces_down()
    for ns in NS:
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "link", "add", "wl-dask-va", "netns", NS[0], "type", "veth", "peer", "name",
       "wl-dask-vb", "netns", NS[1])
    for ns, dev, addr in ((NS[0], "wl-dask-va", ADDR[0]), (NS[1], "wl-dask-vb", ADDR[1])):
        sh("ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")


def namespaces_down() -> None:
    for ns in NS:
        sh("ip", "netns", "del", ns, check=False)


def in_ns(ns: str, *cmd: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *cmd]


def timed(cmd: list[str]) -> tuple[float, str, int]:
    """(wall seconds, md5 of stdout, 0) of one run of `cmd`."""
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}: {p.stderr.decode(errors='replace')[-800:]}")
    return wall, hashlib.md5(p.stdout).hexdigest(), 0


def worker_peak_kb(pids: list[int]) -> list[int]:
    peaks = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                peaks.append(next(int(l.split()[1]) for l in f if l.startswith("VmHWM")))
        except (OSError, StopIteration):
            peaks.append(0)
    return peaks


def run(args) -> None:
    files = make_ring(args.dir, args.packets, args.files)
    small = os.path.join(args.dir, "small")
    os.makedirs(small, exist_ok=True)
    shutil.copy(os.path.join(ROOT, "captures", "concurrent.pcap"), small)
    wl = [sys.executable, "-m", "analyzer", "summary", "--json"]
    namespaces_up()
    procs = []
    try:
        procs.append(subprocess.Popen(in_ns(NS[0], "dask", "scheduler", "--host", ADDR[0],
                                            "--port", "8786", "--no-dashboard"),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(3)
        for ns in NS:
            procs.append(subprocess.Popen(in_ns(ns, "dask", "worker", SCHEDULER, "--nthreads", "1",
                                                "--nworkers", "1", "--no-nanny",
                                                "--no-dashboard"),
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(5)
        one, h1, _ = timed(wl + [args.dir])
        two, h2, _ = timed(in_ns(NS[0], *wl, args.dir, "--dask", SCHEDULER))
        peaks = worker_peak_kb([p.pid for p in procs[1:]])
        s1, hs1, _ = timed(wl + [small])
        s2, hs2, _ = timed(in_ns(NS[0], *wl, small, "--dask", SCHEDULER))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        namespaces_down()
    total = sum(os.path.getsize(f) for f in files)
    print(f"ring buffer: {len(files)} files, {total / 1e6:.0f} MB, ~{args.packets} packets")
    print(f"one process            {one:8.2f} s")
    print(f"dask, 2 workers        {two:8.2f} s   {one / two:.2f}x faster   identical JSON: {h1 == h2}")
    print(f"worker peak RSS        {', '.join(f'{k / 1024:.0f} MB' for k in peaks)}")
    print(f"small capture: one process {s1:.2f} s, dask {s2:.2f} s: fixed cost {s2 - s1:+.2f} s"
          f"   identical JSON: {hs1 == hs2}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--packets", type=int, default=5_000_000)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--dir", default="/tmp/wirelab-ring")
    run(ap.parse_args())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
