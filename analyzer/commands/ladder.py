"""`wirelab ladder FILE --stream N`: one conversation as a plain-text ladder diagram (client
left, server right, one arrow per packet with flags, seq/ack, length and payload text)."""
from __future__ import annotations

from types import SimpleNamespace

from analyzer.commands.follow import add_stream_argument, print_or_write, stream_conversation
from analyzer.commands.options import add_common_arguments, load_engine
from analyzer.errors import WirelabError

HELP = "one conversation as a plain-text ladder diagram (for slides)"


def add_arguments(p) -> None:
    add_common_arguments(p)
    add_stream_argument(p)
    p.add_argument("-w", "--width", type=int, default=64, metavar="COLUMNS",
                   help="width of the arrows (default 64, at least 24)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def ladder_text(eng, conv, width: int) -> str:
    from analyzer.render.conversation_text import ladder_lines
    view = SimpleNamespace(engine=eng, lock=eng.lock)
    return "\n".join(line.plain.rstrip() for line in ladder_lines(view, conv, width)) + "\n"


def run(args) -> int:
    if args.width < 24:
        raise WirelabError("--width needs at least 24 columns")
    eng = load_engine(args)
    try:
        conv = stream_conversation(eng, args.stream, args.udp)
        text = ladder_text(eng, conv, args.width)
    finally:
        eng.close()
    print_or_write(text, args.output)
    return 0
