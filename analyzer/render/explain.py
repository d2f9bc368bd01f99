"""Plain-language explanations of a packet or a conversation: pure functions over engine data,
shared by the TUI's Explain view and the lab.

    explain_packet(engine, n) -> list[str]          a few sentences
    explain_conversation(engine, conv) -> list[str]
"""
from __future__ import annotations

from analyzer.decode.decoded import ACK, FIN, PSH, RST, SYN
from analyzer.transport.analysis_flags import ANALYSIS_BIT

ZEEK_STATES = {
    "S0": "a connection attempt was seen, but no reply",
    "S1": "the connection was established but not (yet) closed",
    "SF": "normal establishment and normal termination (FIN in both directions)",
    "REJ": "the connection attempt was rejected (the server answered the SYN with a RST)",
    "S2": "established; the client tried to close, no reply from the server",
    "S3": "established; the server tried to close, no reply from the client",
    "RSTO": "established, then the client aborted it with a RST",
    "RSTR": "established, then the server aborted it with a RST",
    "RSTOS0": "the client sent a SYN and then a RST; no SYN-ACK was seen",
    "RSTRH": "the server sent a SYN-ACK and then a RST; no SYN was seen",
    "SH": "the client sent a SYN and then a FIN; no SYN-ACK was seen",
    "SHR": "the server sent a SYN-ACK and then a FIN; no SYN was seen",
    "OTH": "no SYN was seen: the capture started mid-stream (or this is not TCP)",
}

FRAMING = {
    "lenmsg": "lenmsg frames every message with a 4-byte length, so the receiver reads the length, "
              "then exactly that many bytes, whatever the segments look like",
    "filexfer": "filexfer frames its JSON header with a 4-byte length and announces the file size, "
                "so the receiver knows exactly where the content ends",
    "bigreply": "bigreply announces the reply size in its header line, so a receiver that reads "
                "until it has that many bytes is correct, while a naive recv(1024) is not",
    "udpecho": "UDP keeps datagram boundaries: one send() is one datagram is one recv()",
    "auth": "auth messages have fixed sizes (32-byte challenge, fixed-size answer), which frames them",
}


UNFRAMED = {
    "chat": "chat has no length prefix, so the receiver sees one stream of bytes and can split it "
            "only on a delimiter (a newline, when the sender ended each message with one); "
            "without one, where a send() ended is lost (only the lab's sidecar, which recorded "
            "every send(), knows). A length prefix, as in lenmsg, fixes that",
}


TEARDOWN = {
    "four-way": "FIN, ACK, FIN, ACK, as the lecture draws it: each FIN is acknowledged by a "
                "packet of its own, because the other side closed a moment after reading "
                "end-of-file (its kernel had already sent the ACK alone)",
    "fin-ack-piggybacked": "FIN, FIN+ACK, ACK (three packets): the other side closed at once "
                           "on reading end-of-file, so its kernel put the ACK of the first FIN "
                           "on its own FIN instead of sending it alone; still the four steps "
                           "of the four-way close, two of them in one packet",
    "simultaneous": "both sides sent a FIN before the other's arrived: the FINs crossed on the "
                    "wire and each was acknowledged separately (simultaneous close)",
    "half-close": "one side closed only its sending half (shutdown(SHUT_WR)) and the other "
                  "side went on sending data after that FIN: each direction closes on its own",
    "rst": "aborted with a RST (e.g. close() with SO_LINGER 0, or an application refusing "
           "the peer): no FIN exchange, the peer's next read sees 'connection reset'",
    "none": "no FIN and no RST seen: the connection was still open when the capture ended",
}


def teardown_text(kind: str) -> str:
    """One plain sentence on a teardown kind (the `teardown.kind` of the summary JSON)."""
    return TEARDOWN.get(kind, "an ending wirelab has no name for")


AUTH_VERDICT = {
    "accepted": "the client proved it knows the shared secret",
    "rejected": "the client's answer is wrong",
    "replayed": "the client sent an answer recorded from an earlier connection",
    "unchecked": "wirelab cannot tell whether the answer is right",
}


def auth_text(engine, conv, secret: bytes | None = None) -> str | None:
    """One sentence on an auth conversation's challenge-response ("Authentication rejected:
    ..."), None for other protocols.  `secret`: the shared secret, if the user gave one."""
    from analyzer.engine.auth_check import checker_for
    got = checker_for(engine, secret).verdict(engine, conv)
    if got is None:
        return None
    variant = f" ({got.variant})" if got.variant else ""
    return (f"Authentication{variant} {got.verdict}: {AUTH_VERDICT[got.verdict]}; "
            f"{got.why}.")


def _name(proto: str | None) -> str:
    return (proto or "").split(":")[0]


def _conv_of(engine, n: int):
    sid = engine.stream_of(n)
    if sid is None:
        return None
    d = engine.decoded(n)
    try:
        return engine.conversation(d.transport, sid)
    except (KeyError, IndexError, LookupError):
        return None


def _teardown_role(conv, n: int) -> str | None:
    """A sentence on packet n's place in its conversation's FIN teardown, if it has one."""
    td = conv.teardown or {}
    kind, frames = td.get("kind"), list(td.get("frames") or [])
    if n not in frames or kind not in ("four-way", "fin-ack-piggybacked"):
        return None
    step = frames.index(n)
    if kind == "fin-ack-piggybacked" and step == 1:
        return ("This FIN also acknowledges the other side's FIN: the two middle steps of the "
                f"four-way close share one packet (fin-ack-piggybacked: {teardown_text(kind)}).")
    if kind == "four-way" and step == 1:
        return ("This ACK acknowledges the first FIN on its own: step 2 of the four-way wave "
                f"(four-way: {teardown_text(kind)}).")
    return None


def explain_packet(engine, n: int, secret: bytes | None = None) -> list[str]:
    """A few sentences on what packet `n` is and why it looks the way it does; `secret`
    checks an auth answer carried by it."""
    d = engine.decoded(n)
    bits = engine.analysis_bits(n)
    slices = list(engine.message_slices(n))
    conv = _conv_of(engine, n)
    out: list[str] = []
    if d.malformed:
        out.append(f"Packet {n} could not be fully decoded: {d.malformed}.")
    who = "?"
    if conv is not None:
        me = f"{d.src}:{d.sport}" if d.ip_version != 6 else f"[{d.src}]:{d.sport}"
        who = "the client" if me == conv.client else "the server"
    if d.transport == "tcp":
        f = d.flags
        if f & SYN and not f & ACK:
            out.append(f"Packet {n} is a SYN: {who} asks to open a TCP connection and picks its initial "
                       "sequence number. It is step 1 of the three-way handshake (SYN, SYN-ACK, ACK).")
        elif f & SYN and f & ACK:
            out.append(f"Packet {n} is a SYN-ACK: {who} accepts the connection, acknowledges the client's "
                       "SYN and sends its own initial sequence number (handshake step 2).")
        elif f & RST:
            out.append(f"Packet {n} is a RST: {who} aborts the connection at once. Data not yet read is "
                       "lost; no FIN exchange follows. A RST answering a SYN means nothing listens on that port.")
        elif f & FIN:
            out.append(f"Packet {n} carries a FIN: {who} has no more data to send (a half-close). The "
                       "other side may still send; the teardown completes when both FINs are acknowledged.")
        elif conv is not None and n in (conv.handshake or {}).get("frames", [])[2:3]:
            out.append(f"Packet {n} is the ACK that completes the three-way handshake: from here on "
                       "both sides may send data.")
        elif d.payload_len == 0 and f & ACK:
            out.append(f"Packet {n} is a pure ACK from {who}: no data, it tells the peer that every "
                       f"byte before sequence number {d.ack} arrived.")
        role = _teardown_role(conv, n) if conv is not None else None
        if role:
            out.append(role)
        if d.payload_len:
            push = " with PSH set (the sender's buffer was flushed)" if f & PSH else ""
            out.append(f"It carries {d.payload_len} bytes of data from {who}{push}.")
    elif d.transport == "udp":
        out.append(f"Packet {n} is a UDP datagram from {who}: no handshake, no acknowledgment, no "
                   "retransmission. One send() became exactly this one datagram, and the receiver's "
                   "recv() returns it whole: UDP never sticks or splits messages.")
    else:
        out.append(f"Packet {n} is {d.protocol}, not TCP or UDP.")

    if bits & ANALYSIS_BIT["retransmission"]:
        out.append("It is a retransmission: these bytes were sent before but not acknowledged in time, "
                   "so TCP sent them again. The receiver keeps only one copy.")
    if bits & ANALYSIS_BIT["out_of_order"]:
        out.append("It arrived out of order: TCP reorders by sequence number before the application reads.")
    if bits & ANALYSIS_BIT["lost_segment"]:
        out.append("An earlier segment is missing from the capture (not necessarily lost on the wire).")
    if bits & ANALYSIS_BIT["duplicate_ack"]:
        out.append("It is a duplicate ACK: the receiver is still waiting for the same byte, a hint of loss.")
    if bits & ANALYSIS_BIT["zero_window"]:
        out.append("It advertises a zero window: the receiver's buffer is full, the sender must wait.")

    starts = [s for s in slices if s.first]
    if len(slices) > 1:
        idx = ", ".join(f"#{s.message.index}" for s in slices)
        proto = _name(slices[0].message.protocol)
        out.append(f"This one segment carries parts of {len(slices)} application messages ({idx}). "
                   "They were written by separate send() calls, but TCP is a byte stream: while earlier "
                   "data was still unacknowledged, Nagle's algorithm held the small writes back and sent "
                   "them together (a \"sticky packet\"). TCP_NODELAY makes this rarer, never impossible.")
        if proto in FRAMING:
            out.append(f"The receiver can still separate them because {FRAMING[proto]}.")
        elif proto in UNFRAMED:
            out.append(f"Can the receiver separate them? Only by luck: {UNFRAMED[proto]}.")
    for s in slices:
        m = s.message
        if m.split and s.first:
            out.append(f"Message #{m.index} ({m.length} bytes) starts here but continues in packet(s) "
                       + ", ".join(str(p) for p in m.packets[1:8])
                       + ": one send() may need several segments, so a receiver must loop on recv() "
                       "until the whole message has arrived.")
        elif m.split and s.last:
            out.append(f"This packet completes message #{m.index}, which began in packet {m.packets[0]}.")
        elif len(slices) == 1 and s.first and s.last:
            out.append(f"It carries exactly one whole {_name(m.protocol)} message (#{m.index}): {m.summary}.")
        if m.malformed:
            out.append(f"Message #{m.index} is malformed: {m.malformed}.")
    if not starts and slices and not any(s.last for s in slices):
        out.append("It carries only the middle of a longer message.")
    if conv is not None and _name(conv.protocol) == "auth":
        from analyzer.engine.auth_check import checker_for
        if checker_for(engine, secret).mark(engine, n):
            out.append(auth_text(engine, conv, secret))
    return out


def explain_conversation(engine, conv, secret: bytes | None = None) -> list[str]:
    """A few sentences on what happened in conversation `conv` (an engine Conversation);
    `secret` checks an auth conversation's answer."""
    out: list[str] = []
    kind = conv.transport.upper()
    proto = _name(conv.protocol) or "unknown protocol"
    out.append(f"{kind} conversation {conv.id} between client {conv.client} and server {conv.server}, "
               f"speaking {proto}: {conv.packets} packets, {conv.bytes_c2s} bytes client→server and "
               f"{conv.bytes_s2c} bytes server→client.")
    if conv.transport == "tcp":
        hs = conv.handshake or {}
        if hs.get("complete"):
            rtt = hs.get("rtt_ms")
            rtt_text = f", round-trip time {rtt:.3f} ms" if isinstance(rtt, (int, float)) else ""
            frames = hs.get("frames") or []
            out.append(f"The three-way handshake completed in packets {', '.join(map(str, frames))}{rtt_text}.")
        else:
            out.append("No complete handshake was seen.")
        state = conv.state
        out.append(f"Zeek state {state}: {ZEEK_STATES.get(state, 'see the Zeek conn.log documentation')}"
                   + (f" (history {conv.history})." if conv.history else "."))
        td = conv.teardown or {}
        if td.get("kind") and td.get("kind") != "none":
            ini = td.get("initiator")
            out.append(f"Teardown: {td['kind']}" + (f", started by the {ini}" if ini else "")
                       + (f" (packets {', '.join(map(str, td.get('frames', [])))})" if td.get("frames") else "")
                       + f": {teardown_text(td['kind'])}.")
    auth = auth_text(engine, conv, secret) if _name(conv.protocol) == "auth" else None
    if auth:
        out.append(auth)
    n_msgs = len(conv.messages)
    if n_msgs:
        out.append(f"{n_msgs} application messages were found.")
    if conv.coalesced_packets:
        out.append(f"{len(conv.coalesced_packets)} packet(s) carry more than one message "
                   f"(e.g. packet {conv.coalesced_packets[0]}): the sender's writes were coalesced into "
                   "one segment, the classic \"sticky packet\". The bytes are correct, only the "
                   "boundaries are gone from the wire.")
    if conv.split_messages:
        out.append(f"{conv.split_messages} message(s) were split over several segments.")
    if (conv.coalesced_packets or conv.split_messages) and proto in FRAMING:
        out.append(f"This is harmless here because {FRAMING[proto]}.")
    elif (conv.coalesced_packets or conv.split_messages) and proto in UNFRAMED:
        out.append(f"For this protocol it matters: {UNFRAMED[proto]}.")
    problems = {k: v for k, v in (conv.analysis or {}).items() if v}
    if problems:
        out.append("TCP analysis: " + ", ".join(f"{k.replace('_', ' ')} ×{v}" for k, v in problems.items()) + ".")
    for g in conv.gaps[:3]:
        out.append(f"{g[2]} bytes are missing in {g[0]} at stream offset {g[1]}: they were not captured.")
    for m in conv.malformed[:3]:
        out.append(f"Malformed: {m}.")
    return out
