"""Benchmark the reference servers on loopback.

    python3 benchmarks/bench_servers.py [--seconds 5] [--upload-mb 200]

* lenmsg round trips/s with 1, 10 and 100 concurrent clients (each client: send one framed
  message, wait for its framed reply, repeat), for wirelab's server (`wirelab serve lenmsg`,
  run as its own process) and, as the anchor, a minimal lecture-style socketserver echo
  (same framing, no codec, no timeouts, no thread bound) in its own process.
* filexfer upload MB/s: one upload of --upload-mb MB, and 4 concurrent uploads of a quarter
  each; download MB/s of the big file (sha256 checked by the client in both directions).
* codec decode cost per message (what the analyzer pays for each message it dissects):
  lenmsg and chat fed one message per receive_data() call and as one bulk buffer.
* hostile clients (--hostile; --hostile-only skips the rest): for each TCP server, a real
  client's latency (worst of 3) and the server's threads and RSS while --crowd connections
  (default 1000) stay silent or trickle 1 byte every 5 s, against the lecture-style baseline
  for lenmsg; RSS while 64 connections each hold 15 MiB of a 16 MiB lenmsg frame, and after
  they close (baseline: 10 connections); files left by SIGTERM / SIGKILL mid-upload and by a
  full disk (a 2 MiB tmpfs, root only).  The hostile clients are tests/lab/servers/hostile.py.

Clients run as threads of this process (one Python process, so client overhead is included).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from analyzer.lab import clients  # noqa: E402

BASELINE = r'''
import socketserver, struct, sys
def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: return None
        b += c
    return b
class H(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            h = recv_exact(self.request, 4)
            if h is None: return
            body = recv_exact(self.request, struct.unpack("!I", h)[0])
            if body is None: return
            self.request.sendall(h + body.upper())
class S(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
s = S(("127.0.0.1", 0), H)
print("listening on tcp 127.0.0.1:%d" % s.server_address[1], flush=True)
try:
    s.serve_forever()
except KeyboardInterrupt:
    pass
'''


def start(cmd: list[str]) -> tuple[subprocess.Popen, int]:
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"listening on tcp 127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        raise SystemExit(f"server did not start: {line!r}")
    threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()  # drain its log
    return p, int(m.group(1))


def stop(p: subprocess.Popen) -> None:
    p.send_signal(2)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def recv_exact(s: socket.socket, n: int) -> bytes:
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise ConnectionError("closed")
        b += c
    return b


def round_trips(port: int, n_clients: int, seconds: float, payload: bytes = b"hello wirelab") -> tuple[float, int]:
    """Round trips per second over `seconds` with n_clients concurrent connections."""
    frame = struct.pack("!I", len(payload)) + payload
    want = struct.pack("!I", len(payload)) + payload.upper()
    counts = [0] * n_clients
    errors: list[str] = []
    start_evt = threading.Event()
    stop_at = [0.0]

    def worker(i: int) -> None:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            start_evt.wait()
            n = 0
            while time.perf_counter() < stop_at[0]:
                s.sendall(frame)
                if recv_exact(s, len(want)) != want:
                    errors.append("bad reply")
                    break
                n += 1
            counts[i] = n
            s.close()
        except OSError as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_clients)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    start_evt.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise SystemExit(f"errors: {errors[:3]}")
    return sum(counts) / elapsed, sum(counts)


def make_file(path: str, mb: int) -> str:
    block = os.urandom(1 << 20)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for k in range(mb):
            chunk = bytes([k & 0xFF]) + block[1:]
            f.write(chunk)
            h.update(chunk)
    return h.hexdigest()


def codec_costs(n: int = 200_000) -> None:
    from dissectors import chat, filexfer, lenmsg
    from dissectors.base import SERVER
    print(f"\n## codec decode cost ({n:,} messages of ~14 bytes)")
    print("| codec | feeding | us/message |\n|---|---|---:|")
    cases = [
        ("lenmsg", lambda: lenmsg.Connection(SERVER), [lenmsg.encode(b"hello %d" % i) for i in range(n)]),
        ("chat", lambda: chat.Connection(SERVER), [b"hello line %d\n" % i for i in range(n)]),
        ("filexfer (header + 1 KB)", lambda: filexfer.Connection(SERVER),
         [(lambda h: struct.pack("!I", len(h)) + h + b"x" * 1024)(
             b'{"filename":"f%d","filesize":1024}' % i) for i in range(n // 10)]),
    ]
    for name, make, msgs in cases:
        for how in ("one per call", "bulk"):
            conn = make()
            t0 = time.perf_counter()
            if how == "bulk":
                events = conn.receive_data(b"".join(msgs))
            else:
                events = [e for m in msgs for e in conn.receive_data(m)]
            dt = time.perf_counter() - t0
            count = sum(1 for e in events if e.end_of_message)
            assert count == len(msgs), (name, count)
            print(f"| {name} | {how} | {dt / count * 1e6:.2f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each round-trip measurement")
    ap.add_argument("--upload-mb", type=int, default=200, help="size of the big upload")
    ap.add_argument("--hostile", action="store_true", help="also run the hostile-client part")
    ap.add_argument("--hostile-only", action="store_true", help="run only the hostile-client part")
    ap.add_argument("--crowd", type=int, default=1000, help="hostile connections per server (default 1000)")
    args = ap.parse_args()
    load = os.getloadavg()

    print(f"# bench_servers  python {sys.version.split()[0]}  cpus {os.cpu_count()}  "
          f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  load average {load[0]:.2f}")
    if args.hostile or args.hostile_only:
        hostile_part(args.crowd)
        if args.hostile_only:
            print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
            return 0
    print("\n## lenmsg round trips/s (13-byte messages, TCP_NODELAY clients)")
    print("| clients | wirelab serve lenmsg | lecture-style baseline | ratio |")
    print("|---:|---:|---:|---:|")
    wl, wl_port = start([sys.executable, "-m", "analyzer", "serve", "lenmsg", "--port", "0", "--max-threads", "256",
                      "--quiet"])
    base, base_port = start([sys.executable, "-c", BASELINE])
    try:
        for n in (1, 10, 100):
            a, _ = round_trips(wl_port, n, args.seconds)
            b, _ = round_trips(base_port, n, args.seconds)
            print(f"| {n} | {a:,.0f} | {b:,.0f} | {a / b:.2f} |", flush=True)
    finally:
        stop(wl)
        stop(base)

    print(f"\n## filexfer upload / download (sha256 checked)")
    tmp = tempfile.mkdtemp(prefix="wirelab-bench-")
    try:
        src = os.path.join(tmp, "big.bin")
        digest = make_file(src, args.upload_mb)
        quarter = max(1, args.upload_mb // 4)
        parts = []
        for i in range(4):
            p = os.path.join(tmp, f"part{i}.bin")
            parts.append((p, make_file(p, quarter)))
        up = os.path.join(tmp, "up")
        srv, port = start([sys.executable, "-m", "analyzer", "serve", "filexfer", "--port", "0",
                           "--upload-dir", up, "--quiet"])
        try:
            t0 = time.perf_counter()
            st = clients.upload("127.0.0.1", port, src, timeout=300)
            t1 = time.perf_counter()
            assert st["ok"] and st["sha256"] == digest, st
            print(f"| what | MB | seconds | MB/s |\n|---|---:|---:|---:|")
            print(f"| 1 upload | {args.upload_mb} | {t1 - t0:.2f} | {args.upload_mb / (t1 - t0):,.0f} |")
            results = [None] * 4

            def up_one(i):
                results[i] = clients.upload("127.0.0.1", port, parts[i][0], timeout=300)

            ts = [threading.Thread(target=up_one, args=(i,)) for i in range(4)]
            t0 = time.perf_counter()
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            t1 = time.perf_counter()
            assert all(r and r["ok"] and r["sha256"] == parts[i][1] for i, r in enumerate(results)), results
            print(f"| 4 concurrent uploads | {4 * quarter} | {t1 - t0:.2f} | {4 * quarter / (t1 - t0):,.0f} |")
            t0 = time.perf_counter()
            st = clients.download("127.0.0.1", port, "big.bin", os.path.join(tmp, "back.bin"), timeout=300)
            t1 = time.perf_counter()
            assert st["ok"] and st["sha256"] == digest
            print(f"| 1 download | {args.upload_mb} | {t1 - t0:.2f} | {args.upload_mb / (t1 - t0):,.0f} |")
        finally:
            stop(srv)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    codec_costs()
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


# --- hostile clients ------------------------------------------------------------------------
def _proc_status(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _serve_cmd(proto: str, tmp: str) -> list[str]:
    cmd = [sys.executable, "-m", "analyzer", "serve", proto, "--port", "0", "--quiet"]
    return cmd + (["--upload-dir", os.path.join(tmp, "up")] if proto == "filexfer" else [])


def crowd_rows(crowd: int, tmp: str) -> None:
    from tests.lab.servers.hostile import Crowd, raise_fd_limit, timed_request
    raise_fd_limit(crowd + 1024)
    print(f"\n## a real client under {crowd} hostile connections (worst of 3 requests)")
    print("| server | connections | real client s | server threads | server RSS MB |")
    print("|---|---|---:|---:|---:|")
    servers = [(p, _serve_cmd(p, tmp)) for p in ("chat", "lenmsg", "filexfer", "auth", "bigreply")]
    servers.append(("lenmsg (lecture baseline)", [sys.executable, "-c", BASELINE]))
    for name, cmd in servers:
        proto = name.split()[0]
        for mode in ("silent", "trickle"):
            srv, port = start(cmd)
            try:
                with Crowd(("127.0.0.1", port), proto, crowd, mode=mode, interval=5.0):
                    time.sleep(5.5 if mode == "trickle" else 0.5)       # one trickle round
                    worst = max(timed_request(proto, ("127.0.0.1", port), timeout=120,
                                              upload_name=f"real-{mode}-{i}.txt") for i in range(3))
                    threads = _proc_status(srv.pid, "Threads")
                    rss = _proc_status(srv.pid, "VmRSS") / 1000
                print(f"| {name} | {crowd} {mode} | {worst:.3f} | {threads} | {rss:.0f} |", flush=True)
            finally:
                stop(srv)


def memory_rows() -> None:
    from tests.lab.servers.test_hostile_memory import hold_partial_frames, settled_rss
    print("\n## lenmsg: connections each holding 15 MiB of a declared 16 MiB frame")
    print("| server | connections | RSS before MB | while held | after close | growth held / after |")
    print("|---|---:|---:|---:|---:|---:|")
    runs = [("wirelab serve lenmsg", _serve_cmd("lenmsg", ""), 64),
            ("wirelab serve lenmsg", _serve_cmd("lenmsg", ""), 10),
            ("lecture baseline", [sys.executable, "-c", BASELINE], 10)]
    for name, cmd, count in runs:
        srv, port = start(cmd)
        try:
            before = settled_rss(srv.pid)
            socks = hold_partial_frames(port, count, 15 << 20)
            held = settled_rss(srv.pid)
            for sk in socks:
                sk.close()
            time.sleep(0.5)
            after = settled_rss(srv.pid)
        finally:
            stop(srv)
        print(f"| {name} | {count} | {before / 1e6:.0f} | {held / 1e6:.0f} | {after / 1e6:.0f} | "
              f"+{(held - before) / 1e6:.0f} / +{(after - before) / 1e6:.0f} |", flush=True)


def files_left_rows(tmp: str) -> None:
    import json
    print("\n## files left in the upload directory")
    print("| event | temp files left | files left |")
    print("|---|---:|---:|")
    header = json.dumps({"filename": "half.bin", "filesize": 1 << 20}).encode()
    for sig in (15, 9):
        up = os.path.join(tmp, f"up-{sig}")
        srv, port = start(_serve_cmd("filexfer", tmp)[:-1] + [up])
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(struct.pack("!I", len(header)) + header + b"h" * 1000)
        time.sleep(0.3)
        srv.send_signal(sig)
        srv.wait(10)
        s.close()
        if sig == 9:                   # the next start cleans up
            again, _ = start(_serve_cmd("filexfer", tmp)[:-1] + [up])
            stop(again)
        temps = [n for n in os.listdir(up) if n.startswith(".wirelab-upload-")]
        what = "SIGTERM mid-upload" if sig == 15 else "SIGKILL mid-upload, then the next start"
        print(f"| {what} | {len(temps)} | {len(os.listdir(up))} |")
    if os.geteuid() == 0:
        disk = os.path.join(tmp, "disk")
        os.mkdir(disk)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", disk], check=True)
        try:
            srv, port = start(_serve_cmd("filexfer", tmp)[:-1] + [disk])
            st = clients.upload_bytes("127.0.0.1", port, "big.bin", os.urandom(3 << 20))
            stop(srv)
            print(f"| 3 MiB upload into a 2 MiB disk: status {st.get('error')!r} | "
                  f"{len([n for n in os.listdir(disk) if n.startswith('.wirelab-upload-')])} | "
                  f"{len(os.listdir(disk))} |")
        finally:
            subprocess.run(["umount", "-l", disk], check=False)


def hostile_part(crowd: int) -> None:
    os.environ.setdefault("WIRELAB_SECRET", "hostile-test-secret")    # the tests' SECRET
    tmp = tempfile.mkdtemp(prefix="wirelab-bench-hostile-")
    try:
        crowd_rows(crowd, tmp)
        memory_rows()
        files_left_rows(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
