"""`wirelab summary` as text, fitted to the terminal: a table of conversations when it fits
the width (the terminal's, $COLUMNS, else 80 when piped), otherwise two or more lines per
conversation; then what the teardown labels mean, and each conversation's analysis, auth
verdict, gaps, malformed messages, coalesced packets and messages."""
from __future__ import annotations

import shutil
import sys
import textwrap

from analyzer.render.explain import teardown_text
from analyzer.render.summary_json import choice_json, loopback_duplicates

MIN_WIDTH = 40
NUMERIC = ("id", "pkts", "bytes c→s", "bytes s→c", "msgs", "coalesced", "split")


def output_width() -> int:
    """$COLUMNS, else the terminal's width, else 80 (piped); never below MIN_WIDTH."""
    return max(MIN_WIDTH, shutil.get_terminal_size((80, 24)).columns)


def _cells(c) -> dict[str, str]:
    hs = c.handshake
    hs_text = ("yes" if hs.get("complete") else "no") + (
        f" {hs['rtt_ms']:.3f} ms" if hs.get("rtt_ms") is not None else "")
    td = c.teardown
    td_text = td.get("kind", "none") + (f" by {td['initiator']}" if td.get("initiator") else "")
    return {"id": str(c.id), "proto": c.transport, "client": c.client, "server": c.server,
            "pkts": str(c.packets), "bytes c→s": str(c.bytes_c2s),
            "bytes s→c": str(c.bytes_s2c), "state": c.state, "history": c.history,
            "handshake": hs_text, "teardown": td_text, "protocol": c.protocol or "-",
            "msgs": str(len(c.messages)), "coalesced": str(len(c.coalesced_packets)),
            "split": str(c.split_messages)}


def _table(con, rows: list[dict[str, str]]):
    """The rich table of all conversations, or None when it is wider than the console."""
    from rich.markup import escape
    from rich.measure import Measurement
    from rich.table import Table

    t = Table(title="Conversations", show_lines=False)
    for col in rows[0]:
        t.add_column(col, justify="right" if col in NUMERIC else "left", no_wrap=True)
    for cells in rows:
        t.add_row(*(escape(x) for x in cells.values()))
    natural = Measurement.get(con, con.options.update(width=1 << 16), t).maximum
    return t if natural <= con.width else None


def _flow(pieces: list[str], width: int, indent: str = "    ") -> list[str]:
    """Pieces joined by two spaces into lines of at most `width` (a piece is never cut
    unless it alone is wider than a line)."""
    lines, cur = [], indent
    for p in pieces:
        if cur.strip() and len(cur) + 2 + len(p) > width:
            lines.append(cur)
            cur = indent
        cur += ("  " if cur.strip() else "") + p
    if cur.strip():
        lines.append(cur)
    out = []
    for line in lines:
        out.extend(textwrap.wrap(line, width, subsequent_indent=indent + "  ",
                                 break_on_hyphens=False) if len(line) > width else [line])
    return out


def conversation_lines(cells: dict[str, str], width: int) -> list[str]:
    """One conversation as lines of at most `width`: who talks to whom, then key=value."""
    head = f"{cells['id']:>3} {cells['proto']} {cells['client']} → {cells['server']}  {cells['protocol']}"
    keys = ("pkts", "bytes c→s", "bytes s→c", "state", "history", "handshake", "teardown",
            "msgs", "coalesced", "split")
    pieces = [f"{k.replace(' ', '_')} {cells[k]}" for k in keys]
    return _flow([head], width, indent="") + _flow(pieces, width)


def _wrap(text: str, width: int, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False) or [indent]


def legend_lines(kinds, width: int) -> list[str]:
    """What each teardown label used means, one wrapped paragraph per label."""
    out = []
    for kind in dict.fromkeys(kinds):
        out.extend(_wrap(f"{kind}: {teardown_text(kind)}.", width))
    return ["teardown kinds:"] + out if out else []


def _message_line(m, width: int) -> list[str]:
    """One message: number, direction, offset, length, packets, then its one-line summary
    (a preview, cut to the line with "…"); a malformed reason is wrapped, never cut."""
    pk = ",".join(map(str, m.packets[:8])) + ("..." if len(m.packets) > 8 else "")
    tag = " [split]" if m.split else ""
    line = (f"  #{m.index:<4} {m.direction} off={m.offset:<6} len={m.length:<6} "
            f"pkts={pk}{tag}")
    if m.malformed:
        return textwrap.wrap(f"{line} [malformed: {m.malformed}]", width,
                             subsequent_indent="        ", break_on_hyphens=False)
    summary = " " + m.summary
    room = width - len(line)
    if len(summary) > room:
        summary = summary[: room - 1] + "…" if room > 1 else ""
    return [line + summary]


def choice_lines(eng, c, width: int) -> list[str]:
    """How the protocol was chosen when it was guessed (probe, inference), the framing
    found per direction with its confidence, and what the bytes contradicted."""
    info = choice_json(eng, c.transport, c.id)
    if info is None or info.get("by") not in ("probe", "inference", "decode-as"):
        return []
    out = []
    if info["by"] == "probe":
        out += _wrap(f"guessed by probe: {c.protocol}", width)
    for why in info.get("rejected", []):
        out += _wrap(f"rejected: {why}", width)
    framing = info.get("framing")
    for d in ("c2s", "s2c") if framing else ():
        f = framing[d]
        alt = f.get("alternative")
        text = f"framing {d}: {f['text']}"
        if f["framing"] and f.get("stated"):
            text += f" [{f['framing']}] (stated)"
        elif f["framing"]:
            text += f" [{f['framing']}] confidence {f['confidence']:.2f}"
        if alt:
            text += f"; alternative: {alt['text']} ({alt['confidence']:.2f})"
        out += _wrap(text, width)
    return out


def detail_lines(eng, c, max_messages: int, width: int, secret: bytes | None) -> list[str]:
    """One conversation's analysis, auth verdict, gaps, malformed and messages (or [])."""
    from analyzer.engine.auth_check import checker_for
    analysis = ", ".join(f"{k}={v}" for k, v in c.analysis.items() if v)
    auth = checker_for(eng, secret).verdict(eng, c)
    choice = choice_lines(eng, c, width)
    if not c.messages and not analysis and not c.gaps and not c.malformed and auth is None \
            and not choice:
        return []
    lines = [""] + _wrap(f"{c.transport} conversation {c.id} {c.client} → {c.server} "
                         f"({c.protocol or 'unknown protocol'})", width, indent="") + choice
    if analysis:
        lines += _wrap(f"analysis: {analysis}", width)
    if auth is not None:
        variant = f" ({auth.variant})" if auth.variant else ""
        lines += _wrap(f"auth{variant}: {auth.verdict.upper()}: {auth.why}", width)
    for d, off, ln in c.gaps:
        lines.append(f"  {d} offset {off}: [{ln} bytes missing]")
    for m in c.malformed:
        lines += _wrap(f"malformed: {m}", width)
    if c.coalesced_packets:
        shown = ", ".join(map(str, c.coalesced_packets[:30]))
        more = f" (+{len(c.coalesced_packets) - 30} more)" if len(c.coalesced_packets) > 30 else ""
        lines += _wrap(f"coalesced packets (carry 2+ messages): {shown}{more}", width)
    msgs = c.messages if max_messages == 0 else c.messages[:max_messages]
    for m in msgs:
        lines += _message_line(m, width)
    if len(msgs) < len(c.messages):
        lines += _wrap(f"... {len(c.messages) - len(msgs)} more messages (--messages 0 shows "
                       "all)", width)
    return lines


def print_summary_text(eng, max_messages: int = 20, secret: bytes | None = None,
                       width: int | None = None) -> None:
    """The text summary of an analysed capture on stdout, no line wider than `width`
    (default: output_width()).  Warnings are not repeated here: the loader prints them on
    stderr."""
    from rich.console import Console

    width = output_width() if width is None else max(MIN_WIDTH, width)
    out = sys.stdout
    convs = eng.conversations
    dups = loopback_duplicates(eng)
    head = f"{eng.source_path or 'capture'}: {eng.packet_count} packets, {len(convs)} conversations"
    if dups:
        head += f" ({dups} loopback duplicates not counted)"
    out.write("\n".join(_wrap(head, width, indent="")) + "\n")
    if not convs:
        return
    rows = [_cells(c) for c in convs]
    con = Console(highlight=False, soft_wrap=False, width=width, file=out,
                  force_terminal=out.isatty() or None, no_color=not out.isatty())
    table = _table(con, rows)
    if table is not None:
        con.print(table)
    else:
        out.write("Conversations (id proto client → server protocol, then its numbers):\n")
        for cells in rows:
            out.write("\n".join(conversation_lines(cells, width)) + "\n")
    out.write("\n".join(legend_lines((c.teardown.get("kind", "none") for c in convs), width))
              + "\n")
    for c in convs:
        lines = detail_lines(eng, c, max_messages, width, secret)
        if lines:
            out.write("\n".join(lines) + "\n")
