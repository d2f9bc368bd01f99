"""`wirelab demo`: a short guided tour of the lab (live with capture rights, else replayed)."""
from __future__ import annotations

import json
import os
import sys
import tempfile

from analyzer.errors import WirelabError

HELP = "a short guided tour of the lab"
TOUR = ("handshake", "sticky-sender", "sticky-receiver", "framed", "udp-vs-tcp")
TUI_CAPTURE = "sticky-sender"      # what the TUI opens on at the end of an interactive tour


def add_arguments(p) -> None:
    p.add_argument("--replay", action="store_true",
                   help="replay the bundled captures even with capture rights")
    p.add_argument("--all", action="store_true", help="every scenario, not just the short tour")
    p.add_argument("--no-tui", action="store_true", help="print the reports, never open the TUI")
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


def open_tui(pcap: str, decode_as: dict | None) -> None:
    from analyzer.tui.app import WirelabApp
    from analyzer.tui.session import open_file
    session, source = open_file(pcap, decode_as or None)
    WirelabApp(session, loader=source).run()


def run(args) -> int:
    from analyzer.lab.scenarios import SCENARIOS
    from analyzer.lab.scenarios.report import render
    from analyzer.lab.scenarios.runner import run as run_live
    from analyzer.sources.live import capture_rights

    names = list(SCENARIOS) if args.all else list(TOUR)
    live = capture_rights() and not args.replay
    bundled = captures_dir()
    workdir = tempfile.mkdtemp(prefix="wirelab-demo-") if live else bundled
    if not args.json:
        how = (f"live on loopback (captures in {workdir})" if live else
               f"replaying the bundled captures in {bundled} (no capture rights: run as root "
               "or with CAP_NET_RAW to run it live)" if not args.replay else
               f"replaying the bundled captures in {bundled}")
        print(f"wirelab demo: {len(names)} scenarios, {how}\n", flush=True)
    reports, failed = {}, 0
    for name in names:
        try:
            if live:
                rep = run_live(name, os.path.join(workdir, f"{name}.pcap"), explain=True)
            else:
                rep = replay_report(name, bundled)
        except WirelabError as exc:
            failed += 1
            print(f"wirelab demo: {name}: {exc}", file=sys.stderr)
            continue
        reports[name] = rep
        if args.json:
            print(json.dumps(rep.to_json()), flush=True)
        else:
            print(render(rep) + "\n", flush=True)
    if not reports:
        raise WirelabError("no scenario could be shown")
    if not args.json:
        print("Next: wirelab lab --list (every scenario), wirelab lab NAME -w FILE, "
              "wirelab summary FILE, wirelab open FILE")
    if (not args.no_tui and not args.json and interactive()
            and TUI_CAPTURE in reports):
        rep = reports[TUI_CAPTURE]
        open_tui(rep.pcap, rep.context.get("decode_as"))
    return 1 if failed else 0
