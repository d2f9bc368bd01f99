"""`wirelab demo`: in a terminal, the sticky-packet capture opened in the TUI on its coalesced
packet with the explanation shown; piped (or --no-tui), a short tour of the lab as text.
Live with capture rights, else replayed from the bundled captures."""
from __future__ import annotations

import json
import os
import sys
import tempfile
import textwrap

from analyzer.errors import WirelabError

HELP = "a short guided tour of the lab"
TOUR = ("handshake", "sticky-sender", "sticky-receiver", "framed", "udp-vs-tcp")
TUI_CAPTURE = "sticky-sender"      # what a terminal opens in the TUI (the coalesced packet)


def add_arguments(p) -> None:
    p.add_argument("--replay", action="store_true",
                   help="replay the bundled captures even with capture rights")
    p.add_argument("--all", action="store_true", help="every scenario, not just the short tour")
    p.add_argument("--no-tui", action="store_true",
                   help="print the tour's reports instead of opening the TUI (the default "
                        "when not in a terminal)")
    p.add_argument("--json", action="store_true", help="print the reports as JSON lines")


def captures_dir() -> str:
    import analyzer
    return os.path.normpath(os.path.join(os.path.dirname(analyzer.__file__), "..", "captures"))


def replay_report(name: str, directory: str):
    """The report of a bundled capture, analyzed now (no capture rights needed)."""
    from analyzer.lab.scenarios.runner import analyze_report
    pcap = os.path.join(directory, f"{name}.pcap")
    meta = os.path.join(directory, f"{name}.lab.json")
    if not (os.path.exists(pcap) and os.path.exists(meta)):
        raise WirelabError(f"bundled capture {pcap} is missing (rebuild: python3 -m "
                           "analyzer.lab.regenerate)")
    with open(meta) as f:
        ctx = json.load(f)["context"]
    ctx["decode_as"] = {int(k): v for k, v in ctx.get("decode_as", {}).items()}
    return analyze_report(name, pcap, ctx, explain=True)


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def first_coalesced(pcap: str, decode_as: dict | None) -> int | None:
    """The first packet of the capture that carries several messages (None: there is none)."""
    from analyzer.engine import analyze_file
    eng = analyze_file(pcap, decode_as or None)
    found = [c.coalesced_packets[0] for c in eng.conversations if c.coalesced_packets]
    return min(found) if found else None


def open_tui(pcap: str, decode_as: dict | None, select: int | None = None) -> None:
    from analyzer.tui.app import WirelabApp
    from analyzer.tui.session import open_file
    session, source = open_file(pcap, decode_as or None)
    WirelabApp(session, loader=source, select=select, explain=select is not None).run()


def show_report(rep, as_json: bool) -> None:
    from analyzer.lab.scenarios.report import render
    print(json.dumps(rep.to_json()) if as_json else render(rep) + "\n", flush=True)


def guided(rep) -> int:
    """In a terminal: a few lines, a pause, then the TUI on the coalesced packet, explained."""
    decode_as = rep.context.get("decode_as")
    number = first_coalesced(rep.pcap, decode_as)
    print(f"{rep.title}\n{textwrap.fill(rep.demonstrates, 78)}\n")
    path = min(rep.pcap, os.path.relpath(rep.pcap), key=len)
    print(f"Capture: {path} ({rep.packets} packets, "
          + ("captured just now)" if rep.live else "bundled with wirelab)"))
    print("Keys: ↑↓ move  e explain  l ladder  f follow  c conversations  ? all  q quit")
    print("(the whole tour as text: wirelab demo --no-tui)\n")
    what = f"packet {number}, the coalesced one" if number else "the capture"
    try:
        input(f"Press Enter to open {what} (Ctrl-C to stop) ")
    except (EOFError, KeyboardInterrupt):
        print()
        return 0
    open_tui(rep.pcap, decode_as, select=number)
    return 0


def tour_report(name: str, live: bool, workdir: str, bundled: str):
    from analyzer.lab.scenarios.runner import run as run_live
    if live:
        return run_live(name, os.path.join(workdir, f"{name}.pcap"), explain=True)
    return replay_report(name, bundled)


def run(args) -> int:
    from analyzer.lab.scenarios import SCENARIOS
    from analyzer.sources.live import capture_rights

    guide = not (args.no_tui or args.json or args.all) and interactive()
    names = [TUI_CAPTURE] if guide else list(SCENARIOS) if args.all else list(TOUR)
    live = capture_rights() and not args.replay
    bundled = captures_dir()
    workdir = tempfile.mkdtemp(prefix="wirelab-demo-") if live else bundled
    if not args.json:
        how = (f"live on loopback (captures in {workdir})" if live else
               f"replaying the bundled captures in {bundled} (no capture rights: run as root "
               "or with CAP_NET_RAW to run it live)" if not args.replay else
               f"replaying the bundled captures in {bundled}")
        if guide:
            how = "live on loopback" if live else "replayed from the bundled capture"
            print(f"wirelab demo: sticky packets, {how}\n", flush=True)
        else:
            print(f"wirelab demo: {len(names)} scenarios, {how}\n", flush=True)
    reports, failed = {}, 0
    for name in names:
        try:
            reports[name] = rep = tour_report(name, live, workdir, bundled)
        except WirelabError as exc:
            failed += 1
            print(f"wirelab demo: {name}: {exc}", file=sys.stderr)
            continue
        if not guide:
            show_report(rep, args.json)
    if not reports:
        raise WirelabError("no scenario could be shown")
    if guide:
        return guided(reports[TUI_CAPTURE])
    if not args.json:
        print("Next: wirelab lab --list (every scenario), wirelab lab NAME -w FILE, "
              "wirelab summary FILE, wirelab open FILE")
    return 1 if failed else 0
