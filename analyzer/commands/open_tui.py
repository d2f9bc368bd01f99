"""`wirelab open FILE`: the terminal UI over a capture (indexing continues while you look)."""
from __future__ import annotations

from analyzer.commands.options import (add_decode_as_argument, add_display_filter_argument,
                                       add_secret_argument, check_display_filter,
                                       parse_decode_as, read_secret, require_terminal)

HELP = "open a capture in the terminal UI"


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", help="pcap or pcapng capture")
    add_display_filter_argument(p)
    add_decode_as_argument(p)
    add_secret_argument(p)


def run(args) -> int:
    from analyzer.tui.app import WirelabApp
    from analyzer.tui.session import open_file

    check_display_filter(args.display_filter)
    secret = read_secret(args)
    session, source = open_file(args.file, parse_decode_as(args.decode_as))
    session.secret = secret
    require_terminal(f"`wirelab packets {args.file}` or `wirelab summary`")
    app = WirelabApp(session, loader=source, initial_filter=args.display_filter)
    app.run()
    return 0
