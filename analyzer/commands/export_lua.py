"""`wirelab export-lua [-o FILE]`: write the Wireshark Lua plugin for wirelab's protocols."""
from __future__ import annotations

import sys

from analyzer.errors import WirelabError

HELP = "write a Wireshark Lua dissector for wirelab's protocols"


def add_arguments(p) -> None:
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the plugin to FILE (default: standard output)")
    p.add_argument("--port", action="append", default=[], metavar="PROTO=PORT",
                   help="default port of a protocol in the plugin, e.g. lenmsg=7001 (repeatable)")


def _ports(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for text in items:
        name, sep, port = text.partition("=")
        if not sep or not port.strip().isdigit():
            raise WirelabError(f"bad --port {text!r}: expected PROTO=PORT, e.g. lenmsg=7001")
        out[name.strip().lower()] = int(port)
    return out


def run(args) -> int:
    from analyzer.wireshark.lua_export import render_lua, write_lua

    ports = _ports(args.port)
    if args.output:
        path = write_lua(args.output, ports)
        print(f"wrote {path}: use it with  tshark -X lua_script:{path} -r CAPTURE  "
              f"or copy it to ~/.local/lib/wireshark/plugins/", file=sys.stderr)
    else:
        sys.stdout.write(render_lua(ports))
    return 0
