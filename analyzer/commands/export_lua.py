"""`wirelab export-lua [-o FILE]`: write the Wireshark Lua plugin for wirelab's protocols;
with `--framing GRAMMAR --port N`, or `--capture FILE --stream N`, a dissector for one stated
or inferred framing instead (analyzer.wireshark.lua_framing)."""
from __future__ import annotations

import os
import sys

from analyzer.commands.options import add_decode_as_argument, parse_decode_as
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
                        "delim:lf, fixed:16, lenjson:4:le:filesize, or one per direction: "
                        "c2s:delim:lf,s2c:len:4:be; see docs/protocols.md)")
    p.add_argument("--capture", metavar="FILE",
                   help="a dissector for the framing wirelab infers in FILE (with --stream)")
    p.add_argument("--stream", type=int, metavar="N",
                   help="the TCP conversation of --capture whose framing to export")
    add_decode_as_argument(p)


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
    from dissectors.framed import DIRECTIONS, Framing, stated_options
    from analyzer.wireshark.lua_framing import framing_lua

    if args.framing:
        try:
            options = stated_options(args.framing)
        except ValueError as exc:
            raise WirelabError(f"bad --framing {args.framing!r}: {exc}") from None
        c2s, s2c = (Framing.parse(g) if g else None for g in
                    ((options.get("framing") or options.get(d)) for d in DIRECTIONS))
        return framing_lua(_framed_port(args.port), c2s, s2c)
    if args.stream is None:
        raise WirelabError("--capture needs --stream N (the TCP conversation's id)")
    from analyzer.engine import analyze_file
    from analyzer.wireshark.lua_framed_ports import conversation_framings, server_port
    if not os.path.isfile(args.capture):
        raise WirelabError(f"{args.capture}: no such file")
    eng = analyze_file(args.capture, decode_as=parse_decode_as(args.decode_as))
    try:
        try:
            conv = eng.conversation("tcp", args.stream)
        except KeyError:
            raise WirelabError(f"{args.capture} has no tcp conversation {args.stream}") from None
        pair = conversation_framings(eng, conv)
    finally:
        eng.close()
    if pair is None or not any(pair):
        raise WirelabError(f"tcp conversation {args.stream} of {args.capture} has no inferred "
                           f"or stated framing (see wirelab summary {args.capture})")
    return framing_lua(server_port(conv), *pair)


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
