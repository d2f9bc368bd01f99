"""`wirelab web FILE` / `wirelab web --live`: the terminal UI served to web browsers with
textual-serve, for a classroom.  Each browser tab runs its own copy of the UI (same keys);
the server binds to 127.0.0.1 unless --host says otherwise."""
from __future__ import annotations

import argparse
import os
import shlex
import sys

from analyzer.commands.options import (add_decode_as_argument, add_display_filter_argument,
                                       check_display_filter, parse_decode_as)
from analyzer.errors import WirelabError

HELP = "serve the terminal UI to web browsers (textual-serve)"


def add_arguments(p) -> None:
    p.add_argument("file", nargs="?", metavar="FILE", help="pcap or pcapng capture to serve")
    p.add_argument("--live", action="store_true", help="serve a live capture instead of a file")
    p.add_argument("-i", "--interface", default="lo", help="with --live: interface (default: lo)")
    p.add_argument("-f", "--filter", default="", metavar="BPF", help="with --live: capture filter")
    add_display_filter_argument(p)
    add_decode_as_argument(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; "
                        "0.0.0.0 serves the whole network)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--public-url", metavar="URL",
                   help="the address browsers use, when it differs from http://HOST:PORT")
    # internal: what each browser session runs (the UI under textual-serve's web driver)
    p.add_argument("--app", action="store_true", help=argparse.SUPPRESS)


def _app_command(args) -> str:
    """The command textual-serve starts for each browser session."""
    cmd = [sys.executable, "-m", "analyzer", "web", "--app"]
    if args.live:
        cmd += ["--live", "-i", args.interface, "-f", args.filter]
    else:
        cmd.append(os.path.abspath(args.file))
    if args.display_filter:
        cmd += ["-Y", args.display_filter]
    for item in args.decode_as:
        cmd += ["--decode-as", item]
    return shlex.join(cmd)


def _check(args) -> None:
    if args.live == bool(args.file):
        raise WirelabError("give a capture FILE or --live (one of them)")
    if args.file and not os.path.isfile(args.file):
        raise WirelabError(f"{args.file}: no such file")
    if not 1 <= args.port <= 65535:
        raise WirelabError(f"bad port {args.port}")
    check_display_filter(args.display_filter)
    parse_decode_as(args.decode_as)


def _run_app(args) -> int:
    """One browser session: the UI itself (stdout is textual-serve's pipe, not a terminal)."""
    from analyzer.tui.app import WirelabApp
    if args.live:
        from analyzer.sources.live import LiveCapture
        from analyzer.tui.session import live_session
        session = live_session(parse_decode_as(args.decode_as))
        cap = LiveCapture(args.interface, args.filter)
        cap.start()
        try:
            WirelabApp(session, live=cap, initial_filter=args.display_filter).run()
        finally:
            cap.stop()
        return 0
    from analyzer.tui.session import open_file
    session, source = open_file(args.file, parse_decode_as(args.decode_as))
    WirelabApp(session, loader=source, initial_filter=args.display_filter).run()
    return 0


def run(args) -> int:
    _check(args)
    if args.app:
        return _run_app(args)
    from textual_serve.server import Server
    title = "wirelab " + ("live" if args.live else os.path.basename(args.file))
    server = Server(_app_command(args), host=args.host, port=args.port, title=title,
                    public_url=args.public_url)
    print(f"wirelab web: serving {title} at http://{args.host}:{args.port} (ctrl+c stops)",
          file=sys.stderr)
    try:
        server.serve()
    except OSError as exc:
        raise WirelabError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0
