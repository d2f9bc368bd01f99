"""Time the TUI on a ~1M-packet capture: first row on screen, End showing the last packet,
peak memory.  Headless (Textual's pilot), in this process, timed from before Textual is
imported.

    python3 benchmarks/bench_tui.py [--file /tmp/wirelab-tui/million.pcap] [--tmux]

--tmux also times the real `wirelab open` in a tmux terminal.  The targets and the latest
figures: docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
DEFAULT = "/tmp/wirelab-tui/million.pcap"


def ensure_capture(path: str) -> str:
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gen_capture.py"),
                        "-n", "1000000", "-o", path], check=True)
    return path


async def one_run(path: str, end_timeout: float) -> dict:
    t0 = time.monotonic()
    from analyzer.tui.app import WirelabApp
    from analyzer.tui.packet_list import PacketList
    from analyzer.tui.session import open_file

    session, source = open_file(path)
    app = WirelabApp(session, loader=source)
    out: dict = {}
    async with app.run_test(size=(160, 50)) as pilot:
        pl = app.query_one(PacketList)
        while pl.first_row_at is None and time.monotonic() - t0 < 60:
            await pilot.pause(0.005)
        out["first_row_s"] = (pl.first_row_at or time.monotonic()) - t0
        out["indexed_at_first_row"] = session.count
        # End, pressed as soon as the quick index has located every packet
        quick = session.quick
        while quick is not None and not quick.done and time.monotonic() - t0 < end_timeout:
            await pilot.pause(0.02)
        app.refresh_counts()
        await pilot.press("end")
        await pilot.pause()
        from analyzer.tui.screenshot import screen_text
        last = pl.selected_number
        shown = last is not None and f"Frame {last}:" in screen_text(app)
        out["end_shows_last_s"] = time.monotonic() - t0 if shown else None
        out["last_selected"] = last
        out["analyzed_at_end"] = session.count
        while not session.done and time.monotonic() - t0 < end_timeout:
            await pilot.pause(0.05)
        out["indexing_done_s"] = time.monotonic() - t0 if session.done else None
        out["packets"] = session.count
        out["rows_rendered"] = pl.rows_rendered
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def tmux_run(path: str, timeout: float = 60.0) -> dict:
    """The real command in a real terminal (tmux): launch -> row 1 visible -> End -> last row.
    Times are from the moment the command starts in the pane (the shell writes the clock
    just before it execs Python), and also from the `tmux new-session` call (which adds the
    tmux server's and the shell's own start-up).  Also the process's own peak memory (VmHWM)
    once its analysis has finished: the in-process figure below includes this benchmark's
    own quick scan of the file."""
    import shutil
    import tempfile
    import uuid
    if not shutil.which("tmux"):
        return {}
    name = f"wirelab-bench-{uuid.uuid4().hex[:8]}"

    def pane() -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True,
                              text=True).stdout

    from analyzer.sources.open import open_capture
    from analyzer.tui.quick_index import QuickIndex
    q = QuickIndex(open_capture(path))
    q.scan()
    want = str(q.count)              # the file's last packet number
    out: dict = {}
    fd, started = tempfile.mkstemp(prefix="wirelab-bench-start-")
    os.close(fd)
    t0 = time.monotonic()
    w0 = time.time()
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "50",
                    f"date +%s.%N > {started}; exec {sys.executable} -m analyzer.cli open {path}"],
                   check=True, cwd=ROOT)
    try:
        while time.monotonic() - t0 < timeout:
            # packet 1's row, however wide the No. column is yet (it widens once the quick
            # index knows the last packet's number)
            if re.search(r"(?m)^\s*1\s+0\.000000\s", pane()):
                now = time.time()
                out["first_row_s"] = time.monotonic() - t0
                with open(started) as f:
                    text = f.read().strip()
                out["first_row_from_start_s"] = now - float(text) if text else now - w0
                break
            time.sleep(0.01)
        last = None
        while time.monotonic() - t0 < timeout:
            subprocess.run(["tmux", "send-keys", "-t", name, "End"])
            time.sleep(0.1)
            text = pane()
            m = re.search(r"Packets: ([\d,]+)", text)
            total = m.group(1).replace(",", "") if m else None
            if total == want and f"Frame {want}:" in text:
                out["end_shows_last_s"] = time.monotonic() - t0
                out["last"] = int(total)
                break
            last = total
        # the real process's own peak (VmHWM) once its analysis has finished ("Loaded")
        pid = subprocess.run(["tmux", "display-message", "-p", "-t", name, "#{pane_pid}"],
                             capture_output=True, text=True).stdout.strip()
        while time.monotonic() - t0 < timeout and "Loaded" not in pane():
            time.sleep(0.2)
        out["loaded"] = "Loaded" in pane()
        try:
            with open(f"/proc/{pid}/status") as f:
                hwm = re.search(r"VmHWM:\s+(\d+) kB", f.read())
            out["peak_rss_mb"] = int(hwm.group(1)) / 1024 if hwm else None
        except (OSError, ValueError):
            out["peak_rss_mb"] = None
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
        os.unlink(started)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default=DEFAULT)
    ap.add_argument("--end-timeout", type=float, default=300.0)
    ap.add_argument("--tmux", action="store_true",
                    help="also time `wirelab open` itself in a real terminal (tmux)")
    args = ap.parse_args(argv)
    path = ensure_capture(args.file)
    if args.tmux:
        t = tmux_run(path)
        print(f"tmux `wirelab open`: first row {t.get('first_row_from_start_s', float('nan')):.2f} s "
              f"after the command started ({t.get('first_row_s', float('nan')):.2f} s after "
              f"`tmux new-session`), End shows packet {t.get('last', '?')} at "
              f"{t.get('end_shows_last_s', float('nan')):.2f} s")
        peak = t.get("peak_rss_mb")
        print("tmux `wirelab open`: peak memory (VmHWM) " + (f"{peak:.0f} MB" if peak else "n/a")
              + (" after the full analysis" if t.get("loaded") else " (analysis not finished)")
              + "   target <= 200 MB")
    res = asyncio.run(one_run(path, args.end_timeout))
    print(f"capture: {path} ({os.path.getsize(path) / 1e6:.0f} MB, {res['packets']:,} packets)")
    print(f"first row on screen:       {res['first_row_s']:.2f} s "
          f"({res['indexed_at_first_row']:,} packets indexed by then)   target <= 1.5 s")
    done = res["indexing_done_s"]
    end = res["end_shows_last_s"]
    print("End shows the last packet: " + (f"{end:.2f} s" if end else "n/a") + "   target <= 5 s"
          + f"  (packet {res['last_selected']:,}; the engine had analyzed {res['analyzed_at_end']:,})")
    print("full analysis finished:    " + (f"{done:.2f} s" if done else "not within the timeout"))
    print(f"rows rendered in total:    {res['rows_rendered']}")
    print(f"peak memory (RSS):         {res['peak_rss_mb']:.0f} MB   target <= 400 MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
