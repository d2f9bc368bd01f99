"""`wirelab summary` as text: a table of conversations, then each one's analysis, gaps,
malformed messages, coalesced packets and messages."""
from __future__ import annotations

import sys

from analyzer.render.summary_json import loopback_duplicates


def print_summary_text(eng, max_messages: int = 20) -> None:
    """The text summary of an analysed capture on stdout (rich table + per-conversation lines)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
    convs = eng.conversations
    dups = loopback_duplicates(eng)
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
