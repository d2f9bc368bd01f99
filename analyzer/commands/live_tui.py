"""`wirelab live -i lo -f FILTER`: capture live into the terminal UI."""
from __future__ import annotations

import os

from analyzer.commands.options import (add_decode_as_argument, add_display_filter_argument,
                                       add_secret_argument, check_display_filter,
                                       parse_decode_as, read_secret, require_terminal)
from analyzer.errors import WirelabError

HELP = "capture live into the terminal UI"


def add_arguments(p) -> None:
    p.add_argument("-i", "--interface", default="lo", help="interface (default: lo)")
    p.add_argument("-f", "--filter", default="", metavar="BPF",
                   help="capture filter (BPF), e.g. 'tcp port 9001'")
    p.add_argument("-w", "--write", metavar="FILE",
                   help="also write every captured packet to this pcap as it arrives")
    add_display_filter_argument(p, "display filter applied at start")
    add_decode_as_argument(p)
    add_secret_argument(p)
    p.add_argument("--save-dir", default=".", metavar="DIR",
                   help="where the `w` key saves pcaps (default: current directory)")


def run(args) -> int:
    from analyzer.sources.live import LiveCapture
    from analyzer.tui.app import WirelabApp
    from analyzer.tui.session import live_session

    check_display_filter(args.display_filter)
    if not os.path.isdir(args.save_dir):
        raise WirelabError(f"--save-dir {args.save_dir}: no such directory")
    secret = read_secret(args)
    session = live_session(parse_decode_as(args.decode_as))
    session.secret = secret
    cap = LiveCapture(args.interface, args.filter, write_to=args.write)
    cap.start()
    try:
        require_terminal("`wirelab capture`")
    except WirelabError:
        cap.stop()
        raise
    app = WirelabApp(session, live=cap, initial_filter=args.display_filter, save_dir=args.save_dir)
    app.sub_title = f"live on {args.interface}" + (f" ({args.filter})" if args.filter else "")
    try:
        app.run()
    finally:
        cap.stop()
    return 0
