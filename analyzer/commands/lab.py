"""`wirelab lab SCENARIO`: reproduce a TCP/UDP phenomenon on loopback, capture it, explain it."""
from __future__ import annotations

import json

from analyzer.errors import WirelabError

HELP = "reproduce a TCP/UDP phenomenon on loopback and explain it"


def add_arguments(p) -> None:
    import argparse
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = ("scenarios:\n" + list_text(indent="  ", width=79)
                + "\n\nhandshake variants (--variant):\n" + variants_text())
    p.add_argument("scenario", nargs="?", help="scenario name (listed below)")
    p.add_argument("--list", action="store_true", help="list the scenarios")
    p.add_argument("-w", "--write", metavar="FILE",
                   help="write the capture here (default: a new temporary directory); the "
                        "sidecar goes beside it as FILE.appio.jsonl")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--variant", metavar="VARIANT",
                   help="handshake: only this variant (listed below)")
    p.add_argument("--clients", type=int, help="concurrent: number of clients (default 5)")


def list_text(indent: str = "", width: int | None = None) -> str:
    """One line per scenario: name and title (wrapped to `width` under the title)."""
    import textwrap
    from analyzer.lab.scenarios import SCENARIOS, get
    w = max(map(len, SCENARIOS))
    lines = [f"{indent}{name:<{w}}  {get(name).TITLE}" for name in SCENARIOS]
    if width is None:
        return "\n".join(lines)
    hang = " " * (len(indent) + w + 2)
    return "\n".join(textwrap.fill(line, width, subsequent_indent=hang) for line in lines)


def variants_text() -> str:
    from analyzer.lab.scenarios.handshake import VARIANT_HELP
    width = max(map(len, VARIANT_HELP))
    return "\n".join(f"  {name:<{width}}  {text}" for name, text in VARIANT_HELP.items())


def run(args) -> int:
    from analyzer.lab.scenarios import SCENARIOS, run_scenario
    from analyzer.lab.scenarios.report import render

    if args.list:
        print(list_text())
        return 0
    if not args.scenario:
        raise WirelabError("name a scenario (wirelab lab --list shows them)")
    if args.scenario not in SCENARIOS:
        raise WirelabError(f"unknown scenario {args.scenario!r} (known: {', '.join(SCENARIOS)})")
    if args.variant is not None:
        from analyzer.lab.scenarios.handshake import VARIANTS
        if args.scenario != "handshake" or args.variant not in VARIANTS:
            raise WirelabError(f"--variant is for handshake: one of {', '.join(VARIANTS)}")
    if args.clients is not None and not 1 <= args.clients <= 50:
        raise WirelabError("--clients must be between 1 and 50")
    report = run_scenario(args.scenario, args.write, variant=args.variant, clients=args.clients)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render(report))
    return 0 if report.ok else 1
