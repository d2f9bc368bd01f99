"""The distributed summary against one process, on a ring buffer of capture files.

Makes (or reuses) a ring buffer: `gen_capture.py -n PACKETS` cut into FILES consecutive files
(conversations cross file boundaries).  Then times, each as a child process:
  * `wirelab summary DIR --json`                  one process;
  * the same with `--dask tcp://10.98.0.1:8786`   a `dask scheduler` and two `dask worker`s,
    each worker in its own network namespace (wl-dask-a, wl-dask-b) joined by a veth pair,
    standing in for two machines that share the directory (root needed);
  * the Dask path's fixed cost: the same two commands on a small capture.
Prints wall time, the workers' peak RSS, the ratio, and checks the JSON is identical; then
where the two-worker run spends its time (Dask's task stream: pass 1, pass 2, and what the
client does after the last task: fetching the last results, the merge, the write).

    sudo python3 benchmarks/bench_dask.py [-n 5000000] [--files 10] [--dir DIR] [--keep]

The ring buffer is made in DIR (default /tmp/wirelab-ring) and removed at the end unless
--keep is given (a kept ring of the same number of files is used again).  The namespaces,
the Dask processes and the temporary files go away on failure and on Ctrl-C too.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NS = ("wl-dask-a", "wl-dask-b")
ADDR = ("10.98.0.1", "10.98.0.2")
SCHEDULER = f"tcp://{ADDR[0]}:8786"
# the workers and runs import this checkout; the workers run without Dask's statistical
# profiler (as `--dask local:N` does; docs/manual/P-distributed.md)
ENV = {**os.environ, "PYTHONPATH": ROOT, "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}


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
    try:
        subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gen_capture.py"), "-n",
                        str(packets), "-o", whole], check=True)
        with open(whole, "rb") as f:
            head = f.read(24)
            data = f.read()
    finally:
        if os.path.exists(whole):
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


def timed(cmd: list[str], others: tuple[int, ...] = ()) -> tuple[float, str, list[float]]:
    """(wall seconds, md5 of stdout, CPU seconds) of one run of `cmd`: the CPU of the run
    itself, then of each process in `others` (the Dask processes) during it.  CPU seconds
    hardly move when other work shares the machine; wall time does."""
    before = [_cpu_of(pid) for pid in others]
    own = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    wall = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}: {p.stderr.decode(errors='replace')[-800:]}")
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = [used.ru_utime + used.ru_stime - own.ru_utime - own.ru_stime]
    cpu += [_cpu_of(pid) - b for pid, b in zip(others, before)]
    return wall, hashlib.md5(p.stdout).hexdigest(), cpu


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env=ENV))
        time.sleep(3)
        for ns in NS:
            procs.append(subprocess.Popen(in_ns(ns, "dask", "worker", SCHEDULER, "--nthreads", "1",
                                                "--nworkers", "1", "--no-nanny",
                                                "--no-dashboard"),
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          env=ENV))
        time.sleep(5)
        runs = []
        for _ in range(args.repeat):        # alternated: a load from elsewhere hits both
            runs.append((timed(wl + [args.dir]),
                         timed(in_ns(NS[0], *wl, args.dir, "--dask", SCHEDULER),
                               tuple(p.pid for p in procs))))
        peaks = worker_peak_kb([p.pid for p in procs[1:]])
        s1, hs1, _ = timed(wl + [small])
        s2, hs2, _ = timed(in_ns(NS[0], *wl, small, "--dask", SCHEDULER))
        phases = subprocess.run(in_ns(NS[0], sys.executable, os.path.abspath(__file__),
                                      "--phases-of", args.dir), check=True, text=True,
                                stdout=subprocess.PIPE, env=ENV).stdout.strip()
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
    for (one, h1, c1), (two, h2, c2) in runs:
        print(f"one process            {one:8.2f} s   CPU {c1[0]:.1f} s")
        print(f"dask, 2 workers        {two:8.2f} s   {one / two:.2f}x faster   "
              f"identical JSON: {h1 == h2}")
        print(f"  CPU: client {c2[0]:.1f} s, scheduler {c2[1]:.1f} s, workers "
              f"{c2[2]:.1f} s + {c2[3]:.1f} s")
    print(f"worker peak RSS        {', '.join(f'{k / 1024:.0f} MB' for k in peaks)}")
    print(f"small capture: one process {s1:.2f} s, dask {s2:.2f} s: fixed cost {s2 - s1:+.2f} s"
          f"   identical JSON: {hs1 == hs2}")
    print(phases)


def phases_of(directory: str) -> None:
    """The two-worker run once more, in this process, timed from Dask's task stream."""
    from distributed import Client, get_task_stream

    from analyzer.distributed.run import summary_on_dask
    from analyzer.sources.merged import capture_files
    files = capture_files([directory])
    with Client(SCHEDULER, timeout="10s") as client, get_task_stream(client) as stream:
        t0 = time.time()
        with open(os.devnull, "w") as out:
            summary_on_dask(client, files, directory, out)
        t_end = time.time()
    spans = {}
    for task in stream.data:
        name = task["key"].split("-")[0]
        for ss in task["startstops"]:
            a, b = spans.get(name, (ss["start"], ss["stop"]))
            spans[name] = (min(a, ss["start"]), max(b, ss["stop"]))
    p1, p2 = spans["file_pass"], spans["analyze_partition"]
    print(f"phases, 2 workers: pass 1 {p1[1] - t0:.2f} s | pass 2 {p2[1] - p1[1]:.2f} s | "
          f"client after the last task (last results, merge, write) {t_end - p2[1]:.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--packets", type=int, default=5_000_000)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--dir", default="/tmp/wirelab-ring")
    ap.add_argument("--keep", action="store_true", help="keep the ring buffer for the next run")
    ap.add_argument("--repeat", type=int, default=1, help="one process / Dask pairs to time")
    ap.add_argument("--phases-of", help=argparse.SUPPRESS)    # the timed run inside a namespace
    args = ap.parse_args()
    if args.phases_of:
        phases_of(args.phases_of)
        return 0
    # SIGTERM unwinds like Ctrl-C: the finally blocks stop the processes, remove the rest
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run(args)
    finally:
        if not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
