"""`wirelab open FILE`: the terminal UI over a capture (indexing continues while you look)."""
from __future__ import annotations

import sys

from analyzer.errors import WirelabError

HELP = "open a capture in the terminal UI"


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", help="pcap or pcapng capture")
    p.add_argument("-Y", "--display-filter", dest="display_filter", default="", metavar="FILTER",
                   help="display filter applied at start, e.g. 'tcp.port == 9001'")
    p.add_argument("--decode-as", action="append", default=[], metavar="PORT=PROTO[:VARIANT]",
                   help="decode a port as a protocol, e.g. 9999=lenmsg:native (repeatable)")


def run(args) -> int:
    from analyzer.commands.packets import parse_decode_as
    from analyzer.display_filter import FilterError, compile_filter
    from analyzer.tui.app import WirelabApp
    from analyzer.tui.session import open_file

    if args.display_filter:
        try:
            compile_filter(args.display_filter)
        except FilterError as exc:
            raise WirelabError(f"bad display filter: {exc}") from None
    session, source = open_file(args.file, parse_decode_as(args.decode_as))
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise WirelabError("the terminal UI needs a terminal (stdin and stdout); "
                           f"without one use `wirelab packets {args.file}` or `wirelab summary`")
    app = WirelabApp(session, loader=source, initial_filter=args.display_filter)
    app.run()
    return 0
