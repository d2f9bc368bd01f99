"""Rebuild the bundled captures: `python3 -m analyzer.lab.regenerate [--out captures] [NAME...]`.

For each scenario: run it live on the well-known ports (9000-9005 when free) and write
  captures/NAME.pcap             the capture (kept under 100 KB)
  captures/NAME.pcap.appio.jsonl the send()/recv() sidecar, where the scenario makes one
  captures/NAME.summary.json     `wirelab summary NAME.pcap --json` of that capture
  captures/NAME.lab.json         the lab report (facts + the context the analysis needs)
Needs root/CAP_NET_RAW (live capture).

--reanalyze keeps every pcap and sidecar as it is and only rewrites NAME.summary.json and
NAME.lab.json from them (after an intended change of the engine's output; no rights needed).

PINNED captures are left alone unless named (or --all): other tests were recorded on them
(the TUI snapshot tests on sticky-sender.pcap); rebuilding one means re-recording those
(`python3 -m pytest tests/tui --snapshot-update`).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from analyzer.sources.sidecar import sidecar_path
from analyzer.lab.scenarios import SCENARIOS, run_scenario

MAX_BYTES = 100_000
PINNED = ("sticky-sender",)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def summary_json(pcap: str) -> dict:
    """Exactly what `wirelab summary PCAP --json` prints."""
    out = subprocess.run([sys.executable, "-m", "analyzer", "summary", pcap, "--json"],
                         capture_output=True, text=True, timeout=300, cwd=os.path.dirname(pcap))
    if out.returncode != 0:
        raise SystemExit(f"regenerate: summary failed on {pcap}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def _write_meta(name: str, out_dir: str, report) -> None:
    pcap = os.path.join(out_dir, f"{name}.pcap")
    rep = report.to_json()
    rep["pcap"] = os.path.basename(pcap)
    rep["sidecar"] = os.path.basename(report.sidecar) if report.sidecar else None
    with open(os.path.join(out_dir, f"{name}.lab.json"), "w") as f:
        json.dump(rep, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out_dir, f"{name}.summary.json"), "w") as f:
        json.dump(summary_json(pcap), f, indent=2, sort_keys=True)
        f.write("\n")


def reanalyze(name: str, out_dir: str) -> dict:
    """Rewrite the expected summary and lab report of an existing bundled capture."""
    from analyzer.lab.scenarios.runner import analyze_report
    pcap = os.path.join(out_dir, f"{name}.pcap")
    with open(os.path.join(out_dir, f"{name}.lab.json")) as f:
        saved = json.load(f)
    ctx = saved["context"]
    ctx["decode_as"] = {int(k): v for k, v in ctx.get("decode_as", {}).items()}
    report = analyze_report(name, pcap, ctx)
    report.context = {k: v for k, v in ctx.items() if k != "sidecar_records"}
    report.live, report.captured, report.dropped = True, saved["captured"], saved["dropped"]
    if not report.ok:
        raise SystemExit(f"regenerate: {name}: the analysis no longer finds the phenomenon")
    _write_meta(name, out_dir, report)
    return {"name": name, "bytes": os.path.getsize(pcap), "packets": report.packets,
            "sidecar": os.path.exists(sidecar_path(pcap))}


def regenerate(name: str, out_dir: str, attempts: int = 5) -> dict:
    pcap = os.path.join(out_dir, f"{name}.pcap")
    for _ in range(attempts):              # a shared machine may disturb one run: retry
        report = run_scenario(name, pcap, default_ports=True)
        # a bundled handshake capture should show the simultaneous close at the first try
        clean = report.context.get("simultaneous_attempts", 1) <= 1
        if report.ok and report.dropped == 0 and clean:
            break
    if not report.ok:
        raise SystemExit(f"regenerate: {name} did not reproduce its phenomenon")
    size = os.path.getsize(pcap)
    if size > MAX_BYTES:
        raise SystemExit(f"regenerate: {pcap} is {size} bytes (> {MAX_BYTES})")
    _write_meta(name, out_dir, report)
    return {"name": name, "bytes": size, "packets": report.packets,
            "sidecar": os.path.exists(sidecar_path(pcap))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="rebuild the bundled lab captures")
    ap.add_argument("--out", default=os.path.normpath(os.path.join(ROOT, "captures")))
    ap.add_argument("--all", action="store_true", help=f"include the pinned {', '.join(PINNED)}")
    ap.add_argument("--reanalyze", action="store_true",
                    help="keep the pcaps; rewrite the expected summaries and lab reports")
    ap.add_argument("names", nargs="*", help="scenarios (default: all but the pinned ones)")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    names = args.names or [n for n in SCENARIOS if args.all or args.reanalyze or n not in PINNED]
    for name in names:
        if name not in SCENARIOS:
            print(f"regenerate: unknown scenario {name!r}", file=sys.stderr)
            return 2
        r = reanalyze(name, args.out) if args.reanalyze else regenerate(name, args.out)
        print(f"{r['name']:<16} {r['packets']:>4} packets {r['bytes']:>6} bytes"
              + ("  + sidecar" if r["sidecar"] else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
