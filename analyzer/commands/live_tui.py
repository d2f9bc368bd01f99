"""`wirelab live -i lo -f FILTER`: capture live into the terminal UI."""
from __future__ import annotations

import os
import sys

from analyzer.errors import WirelabError

HELP = "capture live into the terminal UI"


def add_arguments(p) -> None:
    p.add_argument("-i", "--interface", default="lo", help="interface (default: lo)")
    p.add_argument("-f", "--filter", default="", metavar="BPF",
                   help="capture filter (BPF), e.g. 'tcp port 9001'")
    p.add_argument("-w", "--write", metavar="FILE",
                   help="also write every captured packet to this pcap as it arrives")
    p.add_argument("-Y", "--display-filter", dest="display_filter", default="", metavar="FILTER",
                   help="display filter applied at start")
    p.add_argument("--decode-as", action="append", default=[], metavar="PORT=PROTO[:VARIANT]",
                   help="decode a port as a protocol, e.g. 9999=lenmsg (repeatable)")
    p.add_argument("--save-dir", default=".", metavar="DIR",
                   help="where the `w` key saves pcaps (default: current directory)")


def run(args) -> int:
    from analyzer.commands.packets import parse_decode_as
    from analyzer.display_filter import FilterError, compile_filter
    from analyzer.sources.live import LiveCapture
    from analyzer.tui.app import WirelabApp
    from analyzer.tui.session import live_session

    if args.display_filter:
        try:
            compile_filter(args.display_filter)
        except FilterError as exc:
            raise WirelabError(f"bad display filter: {exc}") from None
    if not os.path.isdir(args.save_dir):
        raise WirelabError(f"--save-dir {args.save_dir}: no such directory")
    session = live_session(parse_decode_as(args.decode_as))
    cap = LiveCapture(args.interface, args.filter, write_to=args.write)
    cap.start()
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        cap.stop()
        raise WirelabError("the terminal UI needs a terminal (stdin and stdout); "
                           "without one use `wirelab capture`")
    app = WirelabApp(session, live=cap, initial_filter=args.display_filter, save_dir=args.save_dir)
    app.sub_title = f"live on {args.interface}" + (f" ({args.filter})" if args.filter else "")
    try:
        app.run()
    finally:
        cap.stop()
    return 0
