"""`wirelab follow FILE --stream N [--text|--hex|--raw] [-o F]`: one conversation's bytes as
`tshark -q -z follow,tcp,ascii|hex|raw,N` prints them (also --udp for udp.stream N)."""
from __future__ import annotations

import os
import sys

from analyzer.commands.options import add_common_arguments, load_engine
from analyzer.errors import WirelabError

HELP = "print one conversation's bytes like tshark -z follow (text, hex or raw)"


def add_stream_argument(p, required: bool = True) -> None:
    p.add_argument("--stream", type=int, required=required, metavar="N",
                   help="the conversation: tcp.stream N (udp.stream N with --udp)")
    p.add_argument("--udp", action="store_true", help="--stream names a UDP conversation")


def stream_conversation(eng, stream: int, udp: bool):
    """The Conversation tcp.stream (or udp.stream) N; WirelabError naming the valid range."""
    transport = "udp" if udp else "tcp"
    try:
        return eng.conversation(transport, stream)
    except KeyError:
        count = sum(1 for c in eng.conversations if c.transport == transport)
        have = f"0-{count - 1}" if count else "none"
        raise WirelabError(f"no {transport} stream {stream} (this capture has {have})") from None


def add_arguments(p) -> None:
    add_common_arguments(p)
    add_stream_argument(p)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--text", dest="mode", action="store_const", const="ascii",
                      help="printable bytes, others as '.' (default; tshark's ascii)")
    mode.add_argument("--hex", dest="mode", action="store_const", const="hex",
                      help="hex dump with offsets, 16 bytes a line")
    mode.add_argument("--raw", dest="mode", action="store_const", const="raw",
                      help="each block as one line of hex digits")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def write_text(path: str, text: str) -> None:
    """Write atomically: nothing is left behind when the write fails."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise WirelabError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def print_or_write(text: str, output: str | None) -> None:
    """`text` on standard output, or written to `output` (-o) with one line saying so."""
    if output:
        write_text(output, text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def run(args) -> int:
    from analyzer.render.follow_text import follow_text
    eng = load_engine(args)
    try:
        conv = stream_conversation(eng, args.stream, args.udp)
        text = follow_text(conv, eng.follow(conv), args.mode or "ascii")
    finally:
        eng.close()
    print_or_write(text, args.output)
    return 0
