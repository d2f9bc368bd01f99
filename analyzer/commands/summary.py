"""`wirelab summary FILE`: conversations, handshakes, teardowns, messages, sticky packets."""
from __future__ import annotations

import os
import sys

from analyzer.commands.packets import add_common_arguments, load_engine

HELP = "conversations, handshakes, teardowns and messages of a capture"


def add_arguments(p) -> None:
    add_common_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (the output contract)")
    p.add_argument("--message-text", action="store_true",
                   help="with --json: add each message's one-line summary (decodes every message)")
    p.add_argument("--messages", type=int, default=20, metavar="N",
                   help="messages listed per conversation in text output (default 20, 0 = all)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="with --json: analyse in N processes, conversations split between them "
                        "(default: the CPUs, at most 4, for files over 20 MB; 1 = one process)")


def run(args) -> int:
    if args.json and _run_parallel(args):
        return 0
    eng = load_engine(args)
    try:
        if args.json:
            eng.write_summary_json(sys.stdout, summaries=args.message_text)
        else:
            print_text(eng, args.messages)
    finally:
        eng.close()
    return 0


def _run_parallel(args) -> bool:
    """`--json` in several processes (analyzer.parallel, engineer P); False: use one process.
    The file and the options are checked here, before anything is forked."""
    from analyzer import appio, parallel
    from analyzer.commands.packets import capture_path, parse_decode_as
    from analyzer.errors import WirelabError
    from analyzer.sources.open import open_capture

    jobs = getattr(args, "jobs", None)
    if jobs is not None and jobs < 1:
        raise WirelabError("--jobs needs a number >= 1")
    path = capture_path(args)
    if jobs is None:
        jobs = parallel.default_jobs(path)
    if jobs <= 1 or not hasattr(os, "fork"):
        return False
    decode_as = parse_decode_as(args.decode_as)
    if args.count is not None and args.count < 0:
        raise WirelabError("-c needs a count >= 0")
    open_capture(path).close()                     # a bad file: the usual one-line error
    sidecar = None if args.no_sidecar else appio.load_beside(path)
    try:
        info = parallel.write_summary_parallel(
            path, sys.stdout, jobs, decode_as=decode_as, limit=args.count, sidecar=sidecar,
            summaries=args.message_text,
            warn=lambda w: print(f"wirelab: warning: {w}", file=sys.stderr))
    except parallel.ParallelFailed as exc:
        print(f"wirelab: warning: parallel analysis failed ({exc}): analysing in one process",
              file=sys.stderr)
        return False
    report = os.environ.get("WIRELAB_RUSAGE_REPORT")
    if report:
        parallel.write_rusage_report(report, info)
    return True


def print_text(eng, max_messages: int = 20) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
    convs = eng.conversations
    dups = eng.loopback_duplicates
    head = f"{eng.source_path or 'capture'}: {eng.packet_count} packets, {len(convs)} conversations"
    if dups:
        head += f" ({dups} loopback duplicates not counted)"
    con.print(escape(head))
    for w in eng.warnings:
        con.print(f"[yellow]warning:[/] {escape(w)}")
    if not convs:
        return
    t = Table(title="Conversations", show_lines=False)
    for col in ("id", "proto", "client", "server", "pkts", "bytes c→s", "bytes s→c", "state",
                "history", "handshake", "teardown", "protocol", "msgs", "coalesced", "split"):
        t.add_column(col, justify="right" if col in ("id", "pkts", "bytes c→s", "bytes s→c",
                                                      "msgs", "coalesced", "split") else "left")
    for c in convs:
        hs = c.handshake
        hs_text = ("yes" if hs.get("complete") else "no") + (
            f" {hs['rtt_ms']:.3f} ms" if hs.get("rtt_ms") is not None else "")
        td = c.teardown
        td_text = td.get("kind", "none") + (f" by {td['initiator']}" if td.get("initiator") else "")
        cells = (str(c.id), c.transport, c.client, c.server, str(c.packets), str(c.bytes_c2s),
                 str(c.bytes_s2c), c.state, c.history, hs_text, td_text, c.protocol or "-",
                 str(len(c.messages)), str(len(c.coalesced_packets)), str(c.split_messages))
        t.add_row(*(escape(x) for x in cells))
    con.print(t)
    out = sys.stdout
    for c in convs:
        analysis = ", ".join(f"{k}={v}" for k, v in c.analysis.items() if v)
        if not c.messages and not analysis and not c.gaps and not c.malformed:
            continue
        lines = [f"\n{c.transport} conversation {c.id} {c.client} → {c.server} "
                 f"({c.protocol or 'unknown protocol'})"]
        if analysis:
            lines.append(f"  analysis: {analysis}")
        for d, off, ln in c.gaps:
            lines.append(f"  {d} offset {off}: [{ln} bytes missing]")
        for m in c.malformed:
            lines.append(f"  malformed: {m}")
        if c.coalesced_packets:
            shown = ", ".join(map(str, c.coalesced_packets[:30]))
            more = f" (+{len(c.coalesced_packets) - 30} more)" if len(c.coalesced_packets) > 30 else ""
            lines.append(f"  coalesced packets (carry 2+ messages): {shown}{more}")
        msgs = c.messages if max_messages == 0 else c.messages[:max_messages]
        for m in msgs:
            pk = ",".join(map(str, m.packets[:8])) + ("..." if len(m.packets) > 8 else "")
            tag = " [split]" if m.split else ""
            bad = f" [malformed: {m.malformed}]" if m.malformed else ""
            summary = "" if m.malformed else " " + m.summary
            lines.append(f"  #{m.index:<4} {m.direction} off={m.offset:<6} len={m.length:<6} "
                         f"pkts={pk}{tag}{summary}{bad}")
        if len(msgs) < len(c.messages):
            lines.append(f"  ... {len(c.messages) - len(msgs)} more messages (--messages 0 shows all)")
        out.write("\n".join(lines) + "\n")
