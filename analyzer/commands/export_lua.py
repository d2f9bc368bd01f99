"""`wirelab export-lua [-o FILE]`: write the Wireshark Lua plugin for wirelab's protocols;
with `--framing GRAMMAR --port N`, or `--capture FILE --stream N`, a dissector for one stated
or inferred framing instead (analyzer.wireshark.lua_framing)."""
from __future__ import annotations

import os
import sys

from analyzer.errors import WirelabError

HELP = "write a Wireshark Lua dissector for wirelab's protocols"


def add_arguments(p) -> None:
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the plugin to FILE (default: standard output)")
    p.add_argument("--port", action="append", default=[], metavar="PROTO=PORT",
                   help="default port of a protocol in the plugin, e.g. lenmsg=7001 (repeatable); "
                        "with --framing: the server's port, e.g. 7005")
    p.add_argument("--framing", metavar="GRAMMAR",
                   help="a dissector for this framing on --port instead (e.g. len:4:le, "
                        "delim:lf, fixed:16, lenjson:4:le:filesize; see docs/protocols.md)")
    p.add_argument("--capture", metavar="FILE",
                   help="a dissector for the framing wirelab infers in FILE (with --stream)")
    p.add_argument("--stream", type=int, metavar="N",
                   help="the TCP conversation of --capture whose framing to export")


def _ports(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for text in items:
        name, sep, port = text.partition("=")
        if not sep or not port.strip().isdigit():
            raise WirelabError(f"bad --port {text!r}: expected PROTO=PORT, e.g. lenmsg=7001")
        out[name.strip().lower()] = int(port)
    return out


def _framed_port(items: list[str]) -> int:
    if len(items) != 1 or not items[0].strip().isdigit() or not 1 <= int(items[0]) <= 65535:
        raise WirelabError("--framing needs one --port N (the server's port, 1-65535)")
    return int(items[0])


def _framing_source(args) -> str:
    """The Lua text for --framing/--port or --capture/--stream."""
    from dissectors.framed import Framing
    from analyzer.wireshark.lua_framing import framing_lua

    if args.framing:
        try:
            f = Framing.parse(args.framing)
        except ValueError as exc:
            raise WirelabError(f"bad --framing {args.framing!r}: {exc}") from None
        return framing_lua(_framed_port(args.port), f, f)
    if args.stream is None:
        raise WirelabError("--capture needs --stream N (the TCP conversation's id)")
    from analyzer.engine import analyze_file
    if not os.path.isfile(args.capture):
        raise WirelabError(f"{args.capture}: no such file")
    eng = analyze_file(args.capture, decode_as=None)
    choice = eng.protocols.choice_of(("tcp", args.stream))
    framing = (choice or {}).get("framing")
    if framing is None:
        raise WirelabError(f"tcp conversation {args.stream} of {args.capture} has no inferred "
                           f"framing (see wirelab summary {args.capture})")
    port = int(eng.conversation("tcp", args.stream).server.rsplit(":", 1)[1])
    c2s, s2c = (Framing.parse(framing[d]["framing"]) if framing[d]["framing"] else None
                for d in ("c2s", "s2c"))
    return framing_lua(port, c2s, s2c)


def run(args) -> int:
    from analyzer.wireshark.lua_export import render_lua, write_lua

    if args.framing or args.capture:
        text = _framing_source(args)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fp:
                fp.write(text)
            print(f"wrote {args.output}: use it with  tshark -X lua_script:{args.output} -r "
                  f"CAPTURE", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    ports = _ports(args.port)
    if args.output:
        path = write_lua(args.output, ports)
        print(f"wrote {path}: use it with  tshark -X lua_script:{path} -r CAPTURE  "
              f"or copy it to ~/.local/lib/wireshark/plugins/", file=sys.stderr)
    else:
        sys.stdout.write(render_lua(ports))
    return 0
