"""Text renderings of one conversation for the TUI views (pure: engine data in, rich Text out).

    follow_lines(session, conv, naive=False) -> list[Text]   Follow stream
    ladder_lines(session, conv, arrow_width) -> list[Text]    Ladder diagram (payload text
                                                              on each data arrow, one
                                                              "|" between messages)
"""
from __future__ import annotations

from rich.text import Text

from analyzer.render.packet_json import packet_json
from analyzer.render.rows import row as row_of
from analyzer.decode.decoded import ACK, FIN, RST, SYN, flags_text

CLIENT_STYLE = "bold #ff8787"     # client in red, server in blue, as Wireshark's Follow
SERVER_STYLE = "bold #87afff"
CLIENT_DATA = "#ffafaf"
SERVER_DATA = "#afd7ff"
MARK_STYLE = "reverse"
MAX_LINES = 20000
MAX_BYTES = 4 * 1024 * 1024       # per direction, for the naive view


def _printable(data: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 or b == 10 else "." for b in data)


def _wrap_add(lines: list[Text], gutter: Text, body: Text, width: int) -> None:
    """Split `body` on newlines and at `width`, first line after `gutter`, others indented."""
    pad = Text(" " * len(gutter.plain))
    first = True
    parts = body.split("\n", allow_blank=True)
    if len(parts) > 1 and not parts[-1].plain:
        parts = parts[:-1]            # a trailing newline ends the block, no blank line
    for part in parts:
        while True:
            head, part = part[:width], part[width:]
            lines.append((gutter if first else pad) + head)
            first = False
            if not part.plain:
                break
        if len(lines) >= MAX_LINES:
            return


def _message_index(conv) -> dict:
    return {(m.direction, m.offset): m for m in conv.messages}


def follow_lines(session, conv, naive: bool = False, width: int = 100) -> list[Text]:
    """Both directions in capture order; message and packet boundaries marked."""
    with session.lock:
        chunks = list(session.engine.follow(conv))
        reads = {}
        if naive:
            for direction in ("c2s", "s2c"):
                reads[direction] = list(session.engine.naive_reads(conv, direction, 1024))
    msgs = _message_index(conv)
    title = Text.assemble(("client ", CLIENT_STYLE), (conv.client, CLIENT_STYLE), "  ⇄  ",
                          ("server ", SERVER_STYLE), (conv.server, SERVER_STYLE),
                          f"   {conv.transport.upper()} stream {conv.id}"
                          + (f", {conv.protocol}" if conv.protocol else ""))
    lines = [title]
    if naive:
        lines.append(Text("Naive reads: what a program calling recv(1024) in a loop would get, one "
                          "block per recv(). ⟦m⟧ marks where a real message starts.", style="italic"))
        return lines + _naive_lines(chunks, reads, msgs, width)
    lines.append(Text("#N = packet that delivered the bytes; ⟦mK nB⟧ = message K (n bytes) starts here.",
                      style="italic"))
    body_w = max(20, width - 14)
    for ch in chunks:
        if len(lines) >= MAX_LINES:
            lines.append(Text(f"... truncated at {MAX_LINES} lines", style="bold"))
            break
        style = CLIENT_STYLE if ch.direction == "c2s" else SERVER_STYLE
        data_style = CLIENT_DATA if ch.direction == "c2s" else SERVER_DATA
        arrow = "C→S" if ch.direction == "c2s" else "S→C"
        if ch.gap:
            lines.append(Text(f"            [{ch.gap} bytes missing]", style="bold #ffd700 on #5f0000"))
            continue
        gutter = Text(f"#{ch.packet:<7}{arrow} ", style=style)
        body = Text()
        starts = sorted(set(ch.message_starts))
        pos = 0
        for st in starts + [len(ch.data)]:
            if st > pos:
                body.append(_printable(ch.data[pos:st]), style=data_style)
            if st < len(ch.data):
                m = msgs.get((ch.direction, ch.offset + st))
                label = f"⟦m{m.index} {m.length}B⟧" if m else "⟦m⟧"
                body.append(label, style=style + " " + MARK_STYLE)
            pos = st
        _wrap_add(lines, gutter, body, body_w)
    if len(lines) == 2:
        lines.append(Text("(no payload bytes in this conversation)", style="italic"))
    return lines


def _naive_lines(chunks, reads, msgs, width) -> list[Text]:
    streams: dict[str, bytearray] = {"c2s": bytearray(), "s2c": bytearray()}
    owners: dict[str, list[tuple[int, int, int]]] = {"c2s": [], "s2c": []}   # (start, end, packet)
    for ch in chunks:
        buf = streams[ch.direction]
        if ch.offset > len(buf):
            buf.extend(b"\0" * min(ch.offset - len(buf), MAX_BYTES))
        if len(buf) >= MAX_BYTES:
            continue
        if ch.offset == len(buf):
            buf.extend(ch.data[: MAX_BYTES - len(buf)])
        if not ch.gap:
            owners[ch.direction].append((ch.offset, ch.offset + len(ch.data), ch.packet))
    items = []
    for direction, rlist in reads.items():
        for i, (off, ln) in enumerate(rlist):
            pk = [p for a, b, p in owners[direction] if a < off + ln and b > off]
            last = max(pk) if pk else 0
            items.append((last, direction, i, off, ln, pk))
    items.sort()
    out: list[Text] = []
    for last, direction, i, off, ln, pk in items:
        if len(out) >= MAX_LINES:
            out.append(Text(f"... truncated at {MAX_LINES} lines", style="bold"))
            break
        reader = "server" if direction == "c2s" else "client"
        style = CLIENT_STYLE if direction == "c2s" else SERVER_STYLE
        data_style = CLIENT_DATA if direction == "c2s" else SERVER_DATA
        pks = ", ".join(str(p) for p in sorted(set(pk))[:8]) + (" ..." if len(set(pk)) > 8 else "")
        out.append(Text(f"{reader} recv() #{i + 1}: {ln} bytes (stream offset {off}, packets {pks})", style=style))
        data = bytes(streams[direction][off:off + ln])
        body = Text()
        pos = 0
        cuts = sorted(m_off - off for (d, m_off) in msgs if d == direction and off <= m_off < off + ln)
        for st in cuts + [len(data)]:
            if st > pos:
                body.append(_printable(data[pos:st]), style=data_style)
            if st < len(data):
                m = msgs.get((direction, off + st))
                body.append(f"⟦m{m.index}⟧" if m else "⟦m⟧", style=style + " " + MARK_STYLE)
            pos = st
        _wrap_add(out, Text("    "), body, max(20, width - 6))
    return out


def conversation_packets(session, conv, limit: int = 5000, scan_limit: int = 500000) -> list[int]:
    """Packet numbers of `conv` (bounded scan between its first and last packet)."""
    out = []
    with session.lock:
        eng = session.engine
        last = min(conv.last_packet or eng.packet_count, eng.packet_count)
        end = min(last, conv.first_packet + scan_limit)
        for n in range(max(1, conv.first_packet), end + 1):
            if eng.stream_of(n) == conv.id and eng.decoded(n).transport == conv.transport:
                out.append(n)
                if len(out) >= limit:
                    break
    return out


def _flag_names(flags: int) -> str:
    names = [(SYN, "SYN"), (FIN, "FIN"), (RST, "RST"), (0x08, "PSH"), (ACK, "ACK")]
    return ",".join(name for bit, name in names if flags & bit) or flags_text(flags) or "-"


def payload_text(eng, n: int) -> str:
    """The payload of packet n as one line: each message's text (a trailing newline dropped,
    others shown as ⏎), "|" between messages; "" without payload."""
    data = eng.payload_of(n)
    if not data:
        return ""
    cuts = [(s.start, s.end) for s in eng.message_slices(n)] or [(0, len(data))]
    parts = []
    for a, b in cuts:
        part = data[a:b]
        if part.endswith(b"\r\n"):
            part = part[:-2]
        elif part.endswith(b"\n"):
            part = part[:-1]
        parts.append(_printable(part).replace("\n", "⏎"))
    return "|".join(parts)


def _arrow_label(head: str, seq_ack: str, length: str, text: str, inner: int) -> tuple[str, str]:
    """The label on an arrow `inner` cells wide and what moves beside it (seq/ack when the
    payload text needs the room); the text is cut with … when even that is too long."""
    full = " ".join(x for x in (head, seq_ack, length, text) if x)
    if len(full) + 2 <= inner or not text:
        return full, ""
    short = f"{head} {length} "
    room = inner - 2 - len(short)
    if len(text) > room:
        text = text[: max(0, room - 1)] + "…"
    return short + text, seq_ack


def ladder_lines(session, conv, arrow_width: int = 48) -> list[Text]:
    """Client and server as two columns, one arrow per packet with flags, seq/ack, length and
    the payload text."""
    numbers = conversation_packets(session, conv)
    hs = set((conv.handshake or {}).get("frames") or [])
    td = set((conv.teardown or {}).get("frames") or [])
    left, right = conv.client, conv.server
    lines = [Text.assemble(("  No.      Time  ", "bold"), (left.ljust(arrow_width // 2 + 2), CLIENT_STYLE),
                           (right.rjust(arrow_width // 2), SERVER_STYLE))]
    with session.lock:
        eng = session.engine
        for n in numbers:
            d = eng.decoded(n)
            row = row_of(eng, n)
            try:
                pj = packet_json(eng, n)
            except Exception:
                pj = {}
            c2s = f"{d.src}:{d.sport}" == conv.client or f"[{d.src}]:{d.sport}" == conv.client
            text = payload_text(eng, n)
            if conv.transport == "tcp":
                seq = pj.get("seq", d.seq)
                ack = pj.get("ack", d.ack)
                head = _flag_names(d.flags)
                seq_ack = f"Seq={seq}" + (f" Ack={ack}" if d.flags & ACK else "")
            else:
                head, seq_ack = "UDP", ""
            inner = arrow_width - 4
            label, beside = _arrow_label(head, seq_ack, f"Len={d.payload_len}", text, inner)
            label = f" {label} "[:inner]
            fill = inner - len(label)
            lpad, rpad = fill // 2, fill - fill // 2
            if c2s:
                arrow = "|" + "─" * lpad + label + "─" * rpad + "─>|"
            else:
                arrow = "|<─" + "─" * lpad + label + "─" * rpad + "|"
            notes = []
            if n in hs or (d.transport == "tcp" and d.flags & SYN):
                notes.append("handshake")
            if n in td or (d.transport == "tcp" and d.flags & FIN):
                notes.append("teardown")
            if d.transport == "tcp" and d.flags & RST:
                notes.append("reset")
            for tag in ("coalesced", "split", "retransmission", "out_of_order", "dup_ack", "lost_segment"):
                if tag in row.tags:
                    notes.append(tag)
            if beside:
                notes.append(beside)
            style = CLIENT_STYLE if c2s else SERVER_STYLE
            if "handshake" in notes:
                style = "bold #87d787"
            elif "teardown" in notes or "reset" in notes:
                style = "bold #d7d7d7" if "reset" not in notes else "bold #ff5f5f"
            lines.append(Text.assemble(f"{n:>5} {row.time:>9.6f}  ", (arrow, style),
                                       ("  " + ", ".join(notes)) if notes else ""))
    if len(numbers) >= 5000:
        lines.append(Text("... only the first 5000 packets are drawn", style="italic"))
    return lines
