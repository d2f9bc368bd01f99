"""`wirelab capture`: live capture like `tcpdump -w`, fed to the engine as packets arrive."""
from __future__ import annotations

import json
import os
import sys

from analyzer.errors import WirelabError

HELP = "capture packets live (like tcpdump -w)"


def add_arguments(p) -> None:
    p.add_argument("-i", "--interface", default="lo", help="interface (default: lo)")
    p.add_argument("-f", "--filter", default="", metavar="BPF",
                   help='capture filter in BPF syntax, e.g. "tcp port 9000"')
    p.add_argument("-w", "--write", metavar="FILE", help="write the packets to this pcap file")
    p.add_argument("-c", "--count", type=int, metavar="N", help="stop after N packets")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--print", dest="print_rows", action="store_true",
                   help="print one line per packet even when writing a file")
    p.add_argument("--summary", action="store_true",
                   help="at the end, print the `wirelab summary --json` object of what was captured")


def _header_line(n: int, rec) -> str:
    """A packet's line from its own headers (after the analysis stopped on an error)."""
    from analyzer.decode import decode_frame
    from analyzer.decode.decoded import flags_text
    d = decode_frame(rec.linktype, rec.data, rec.origlen)
    if d.transport == "tcp":
        info = f"{d.sport} → {d.dport} [{flags_text(d.flags)}] Seq={d.seq} Ack={d.ack} Len={d.payload_len}"
    elif d.transport == "udp":
        info = f"{d.sport} → {d.dport} Len={d.payload_len}"
    else:
        info = d.malformed or d.transport
    return f"{n:>6} {rec.ts:.6f} {d.src or '?'} → {d.dst or '?'} {d.protocol} {rec.origlen} {info}"


def run(args) -> int:
    from analyzer.engine import Engine
    from analyzer.render.rows import row
    from analyzer.render.summary_json import summary_json
    from analyzer.sources.live import LiveCapture

    if args.count is not None and args.count <= 0:
        raise WirelabError("-c/--count must be a positive number of packets")
    if args.duration is not None and not 0 < args.duration < float("inf"):
        raise WirelabError("--duration must be a positive number of seconds")
    show_rows = args.print_rows or not args.write
    eng = Engine()
    cap = LiveCapture(args.interface, args.filter, count=args.count, duration=args.duration,
                      write_to=args.write)
    cap.start()
    try:
        # the capture runs in its own process; analysis here yields the CPU to it (and to the
        # traffic) when the machine is busy, like Wireshark's analysis behind dumpcap
        os.nice(10)
    except OSError:
        pass
    print(f"capturing on {args.interface}" + (f", filter {args.filter!r}" if args.filter else "")
          + (f", writing {args.write}" if args.write else ""), file=sys.stderr, flush=True)
    state = {"n": 0, "eng": eng}

    def consume(rec) -> None:
        state["n"] += 1
        engine = state["eng"]
        if engine is not None:
            try:
                engine.feed(rec)
            except Exception as exc:  # the capture must survive an analysis bug
                print(f"wirelab capture: analysis stopped: {exc}", file=sys.stderr)
                state["eng"] = engine = None
        if show_rows:
            line = None
            if engine is not None:
                try:
                    r = row(engine, engine.packet_count)
                    line = (f"{r.number:>6} {r.time:10.6f} {r.src} → {r.dst} {r.protocol} "
                            f"{r.length} {r.info}")
                except Exception:
                    line = None
            print(line or _header_line(state["n"], rec))

    try:
        for rec in cap:
            consume(rec)
    except KeyboardInterrupt:
        pass
    finally:
        cap.stop()
    for rec in cap.drain():          # what arrived between the last iteration and stop()
        consume(rec)
    eng = state["eng"]
    sys.stdout.flush()
    if cap.error is not None:
        raise WirelabError(f"capture failed: {cap.error}")
    captured, dropped = cap.stats
    print(f"{captured} packets captured", file=sys.stderr)
    print(f"{dropped} packets dropped", file=sys.stderr)
    if args.summary and eng is not None:
        eng.finish()
        print(json.dumps(summary_json(eng), indent=2))
    return 0
