"""`wirelab packets FILE`: one tshark-like line (or JSON object) per packet."""
from __future__ import annotations

import json
import sys

from analyzer.commands.options import (add_common_arguments, add_secret_argument, load_engine,
                                       read_secret)
from analyzer.errors import WirelabError
from analyzer.render.packet_json import packet_json
from analyzer.render.rows import row

HELP = "one line (or JSON object) per packet"


def add_arguments(p) -> None:
    add_common_arguments(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line per packet")
    p.add_argument("-Y", dest="display_filter", metavar="FILTER",
                   help="display filter, e.g. 'tcp.port == 9001' (Wireshark-like)")
    add_secret_argument(p)


def _compile_filter(text: str | None):
    if not text:
        return None
    from analyzer.filters.display_filter import compile_filter
    try:
        return compile_filter(text)
    except ValueError as exc:
        raise WirelabError(f"bad display filter: {exc}") from None


def run(args) -> int:
    from analyzer.engine.auth_check import NO_SECRET, checker_for
    flt = _compile_filter(args.display_filter)
    secret = read_secret(args)
    eng = load_engine(args)
    auth = checker_for(eng, secret)
    out = sys.stdout
    marked = False
    try:
        for n in range(1, eng.packet_count + 1):
            if flt is not None and not flt.matches(eng, n):
                continue
            if args.json:
                out.write(json.dumps(packet_json(eng, n), separators=(",", ":")))
                out.write("\n")
            else:
                r = row(eng, n, auth)
                marked = marked or "[auth: " in r.info
                out.write(format_row(r))
                out.write("\n")
    finally:
        eng.close()
    if marked and secret is None:
        print(f"wirelab: note: auth answers are unchecked: {NO_SECRET}", file=sys.stderr)
    return 0


def format_row(r) -> str:
    """`No. Time Source -> Destination Protocol Length Info` like tshark's default line."""
    return (f"{r.number:>6} {r.time:10.6f} {r.src:>15} → {r.dst:<15} {r.protocol:<8} "
            f"{r.length:>5} {r.info}")
