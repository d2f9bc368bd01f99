"""`wirelab graph KIND FILE -o out.png|out.svg|out.pdf`: Wireshark's graphs as image files.

KIND: io (packets and bytes per interval, whole capture, one conversation or a display
filter), seq (Stevens/tcptrace sequence graph of one TCP conversation), rtt, throughput."""
from __future__ import annotations

import sys

from analyzer.commands.follow import add_stream_argument, stream_conversation
from analyzer.commands.options import add_common_arguments, load_engine
from analyzer.errors import WirelabError

HELP = "draw an I/O, sequence (tcptrace), RTT or throughput graph into a PNG/SVG/PDF file"
KINDS = ("io", "seq", "rtt", "throughput")


def add_arguments(p) -> None:
    p.add_argument("kind", choices=KINDS, metavar="KIND", help="io | seq | rtt | throughput")
    add_common_arguments(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="image to write; the format follows the name: .png, .svg or .pdf")
    p.add_argument("-i", "--interval", type=float, default=None, metavar="SECONDS",
                   help="interval of io and throughput graphs (default: 1/100 of the capture)")
    add_stream_argument(p, required=False)
    p.add_argument("-Y", "--display-filter", dest="display_filter", default="", metavar="FILTER",
                   help="io: count only the packets this display filter shows")


def _interval(args, eng) -> float:
    if args.interval is not None:
        if not args.interval > 0:
            raise WirelabError("--interval needs a number of seconds > 0")
        return args.interval
    if eng.packet_count < 2:
        return 1.0
    span = max(eng.index.ts) - eng.index.ts[0]
    return max(span / 100.0, 1e-6) if span > 0 else 1.0


def _keep(args, eng):
    if not args.display_filter:
        return None
    from analyzer.filters.display_filter import FilterError, compile_filter
    try:
        f = compile_filter(args.display_filter)
    except FilterError as exc:
        raise WirelabError(f"bad display filter: {exc}") from None
    return lambda n: f.matches(eng, n)


def draw(args, eng) -> str:
    """Compute the graph's data and write the file; returns what was drawn (one line)."""
    from analyzer.render import graph_data, graph_files
    graph_files.check_format(args.output)
    if args.kind == "io":
        stream = None
        if args.stream is not None:
            conv = stream_conversation(eng, args.stream, args.udp)
            stream = conv.key
        interval = _interval(args, eng)
        try:
            series = graph_data.io_series(eng, interval, keep=_keep(args, eng), stream=stream)
        except ValueError as exc:
            raise WirelabError(str(exc)) from None
        what = f"{eng.packet_count} packets" if stream is None else f"{stream[0]} stream {stream[1]}"
        graph_files.draw_io(series, args.output, f"I/O graph: {what}, {interval:g} s intervals")
        return f"{len(series.times)} intervals, {sum(series.packets)} packets, {sum(series.bytes)} bytes"
    if args.stream is None:
        raise WirelabError(f"graph {args.kind} needs --stream N (a TCP conversation)")
    conv = stream_conversation(eng, args.stream, args.udp)
    if conv.transport != "tcp":
        raise WirelabError(f"graph {args.kind} needs a TCP conversation")
    title = f"tcp stream {conv.id}: {conv.client} ⇄ {conv.server}"
    if args.kind == "seq":
        series = graph_data.seq_series(eng, conv)
        graph_files.draw_seq(series, args.output, "Sequence (tcptrace) " + title)
        return ", ".join(f"{d}: {len(s.segments)} segments, {len(s.retransmissions)} retransmitted"
                         for d, s in series.items())
    if args.kind == "rtt":
        rtts = graph_data.rtt_series(eng, conv)
        graph_files.draw_rtt(rtts, args.output, "Round-trip time, " + title)
        return ", ".join(f"{d}: {len(v)} samples" for d, v in rtts.items())
    try:
        tp = graph_data.throughput_series(eng, conv, _interval(args, eng))
    except ValueError as exc:
        raise WirelabError(str(exc)) from None
    graph_files.draw_throughput(tp, args.output, "Throughput, " + title)
    return ", ".join(f"{d}: {sum(s.packets)} segments" for d, s in tp.items())


def run(args) -> int:
    eng = load_engine(args)
    try:
        what = draw(args, eng)
    finally:
        eng.close()
    print(f"wrote {args.output}: {args.kind} graph, {what}", file=sys.stderr)
    return 0
