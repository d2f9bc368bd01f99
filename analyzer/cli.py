"""`wirelab` command line: a thin dispatcher over analyzer.commands.* modules.

Errors from bad input are reported as one line on stderr with a non-zero exit status, never
a traceback (see WirelabError).
"""
from __future__ import annotations

import argparse
import importlib
import signal
import sys

from analyzer.errors import WirelabError

# command name -> (module under analyzer.commands, one-line help); only the module of the
# command being run is imported, so `wirelab --help` and start-up stay fast
COMMANDS: dict[str, tuple[str, str]] = {
    "summary": ("summary", "conversations, handshakes, teardowns and messages of a capture"),
    "packets": ("packets", "one line (or JSON object) per packet"),
    "open": ("open_tui", "open a capture in the terminal UI"),
    "live": ("live_tui", "capture live into the terminal UI"),
    "capture": ("capture", "capture packets live (like tcpdump -w)"),
    "serve": ("serve", "run a reference server for a protocol"),
    "client": ("client", "run a reference client for a protocol"),
    "lab": ("lab", "reproduce a TCP/UDP phenomenon on loopback and explain it"),
    "demo": ("demo", "a short guided tour of the lab"),
    "verify": ("verify", "compare wirelab's analysis with tshark's on a capture"),
    "export-lua": ("export_lua", "write a Wireshark Lua dissector for wirelab's protocols"),
    "graph": ("graph", "draw an I/O, sequence (tcptrace), RTT or throughput graph to PNG/SVG/PDF"),
    "follow": ("follow", "print one conversation's bytes like tshark -z follow"),
    "ladder": ("ladder", "one conversation as a plain-text ladder diagram (for slides)"),
    "export-objects": ("export_objects", "save the files a capture carries (filexfer, bigreply)"),
    "web": ("web", "serve the terminal UI to web browsers (textual-serve)"),
}


def _load(name: str):
    return importlib.import_module(f"analyzer.commands.{COMMANDS[name][0]}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirelab",
        description="Wireshark-style dissector and TCP/UDP analyzer: see message boundaries "
        "against segment boundaries.",
    )
    parser.add_argument("--version", action="version", version="wirelab 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        module = _load(name) if (only is None or only == name) else None
        p = sub.add_parser(name, help=help_text, description=help_text)
        if module is not None:
            module.add_arguments(p)
        p.set_defaults(_module=module, _name=name)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    only = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(only if only else "__none__")
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        return int(args._module.run(args) or 0)
    except WirelabError as exc:
        print(f"wirelab {args._name}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # output piped into `head`: stop quietly like other Unix tools
        try:
            sys.stdout = None  # type: ignore[assignment]
        finally:
            return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    raise SystemExit(main())
