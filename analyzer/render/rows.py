"""The packet-list row of a packet (`Row`): tshark-like Info text, protocol column and the
tags the views colour rows by.  Used by `wirelab packets`, the TUI and `capture`."""
from __future__ import annotations

from analyzer.decode.decoded import ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, flags_text
from analyzer.engine.constants import LOOPBACK_DUP
from analyzer.engine.types import Row
from analyzer.transport.analysis_flags import analysis_list

TCP_FLAG_NAMES = ((FIN, "FIN"), (SYN, "SYN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK"),
                  (URG, "URG"), (ECE, "ECE"), (CWR, "CWR"))
# analysis name -> row tag (the colour classes of the packet list)
TAG_OF = {"retransmission": "retransmission", "fast_retransmission": "retransmission",
          "spurious_retransmission": "retransmission", "out_of_order": "out_of_order",
          "lost_segment": "lost_segment", "duplicate_ack": "dup_ack", "malformed": "malformed",
          "loopback_duplicate": "loopback_duplicate"}
_PENDING_FLAG_WORDS = ((SYN, "SYN"), (FIN, "FIN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK"),
                       (URG, "URG"))


def tcp_flag_names(flags: int) -> str:
    """'SYN, ACK' in tshark's order."""
    return ", ".join(name for bit, name in TCP_FLAG_NAMES if flags & bit)


def options_text(opts) -> str:
    """tshark's Info suffix for TCP options: ' MSS=65495 SACK_PERM TSval=1 TSecr=0 WS=1024'."""
    if not opts:
        return ""
    out = []
    if "mss" in opts:
        out.append(f"MSS={opts['mss']}")
    if opts.get("sack_perm"):
        out.append("SACK_PERM")
    for left, right in opts.get("sack") or ():
        out.append(f"SLE={left} SRE={right}")
    ts = opts.get("ts")
    if ts:
        out.append(f"TSval={ts[0]} TSecr={ts[1]}")
    if opts.get("wscale") is not None:
        out.append(f"WS={1 << min(int(opts['wscale']), 14)}")
    return (" " + " ".join(out)) if out else ""


def row(eng, n: int, auth=None) -> Row:
    """The packet-list row of packet n of an analyzer.engine.Engine; `auth` (an
    analyzer.engine.auth_check.AuthChecker) marks the packet completing an auth answer
    with its verdict: "[auth: rejected]"."""
    with eng.lock:
        i = eng.check_number(n)
        bits = eng.index.analysis[i]
        t = eng.index.ts[i] - (eng.first_ts or 0.0)
        length = eng.index.origlen[i]
        names = analysis_list(bits) if bits else []
        tags = {TAG_OF[a] for a in names if a in TAG_OF}
        d = eng.decoded(n)
        src, dst = d.src or "?", d.dst or "?"
        if bits & LOOPBACK_DUP:
            return Row(n, t, src, dst, d.protocol, length, "loopback duplicate (not counted)",
                       frozenset(tags))
        protocol = d.protocol
        if d.malformed:
            tags.add("malformed")
            return Row(n, t, src, dst, protocol, length, f"[Malformed: {d.malformed}]",
                       frozenset(tags))
        cs = eng.state_of_packet(n)
        if d.transport == "tcp":
            info = f"{d.sport} → {d.dport} [{tcp_flag_names(d.flags)}] " + _seq_text(eng, cs, n, d)
            tags |= _flag_tags(d.flags)
        elif d.transport == "udp":
            info = f"{d.sport} → {d.dport} Len={d.payload_len}"
        else:
            info = d.protocol
        slices = eng.message_slices(n, d) if cs is not None else []
        if slices:
            protocol = slices[0].message.protocol.upper()
            info = _messages_text(slices, tags) + f"  [{info}]"
        for a in names:
            if a != "loopback_duplicate":
                info += f" [{a}]"
        if auth is not None and slices:
            info += auth.mark(eng, n)
        return Row(n, t, src, dst, protocol, length, info, frozenset(tags))


def _flag_tags(flags: int) -> set[str]:
    """The row tags a TCP packet's own flags give it."""
    return {tag for bit, tag in ((SYN, "handshake"), (FIN, "teardown"), (RST, "rst")) if flags & bit}


def _messages_text(slices, tags: set) -> str:
    if len(slices) > 1:
        tags.add("coalesced")
    parts = []
    for s in slices[:3]:
        m = s.message
        where = "" if s.first and s.last else (" [start]" if s.first else
                                               " [end]" if s.last else " [part]")
        if m.malformed:
            tags.add("malformed")
        parts.append(f"{m.protocol} {m.summary}{where}".strip())
        if m.split:
            tags.add("split")
    more = f" (+{len(slices) - 3} more)" if len(slices) > 3 else ""
    return "; ".join(parts) + more


def _seq_text(eng, cs, n: int, d) -> str:
    if cs is None or cs.transport != "tcp":
        return f"Seq={d.seq} Ack={d.ack} Win={d.window} Len={d.payload_len}"
    direction = (eng.flow_kind[n - 1] - 1) % 2
    r, o = cs.reasm[direction], cs.reasm[1 - direction]
    seq = (d.seq - r.base + 1) % (1 << 32) if r.base is not None else d.seq
    win = eng.window_size(cs, direction, d)
    out = f"Seq={seq} "
    if d.flags & ACK:
        ack = (d.ack - o.base + 1) % (1 << 32) if o.base is not None else d.ack
        out += f"Ack={ack} "
    return out + f"Win={win} Len={d.payload_len}" + options_text(d.tcp_options)


def pending_row(n: int, t: float, length: int, d) -> Row:
    """A row drawn from a packet's own headers, before the engine has analysed it."""
    tags = set()
    if d.transport == "tcp":
        words = ", ".join(w for bit, w in _PENDING_FLAG_WORDS if d.flags & bit) or flags_text(d.flags)
        info = f"{d.sport} → {d.dport} [{words}] Win={d.window} Len={d.payload_len}"
        tags |= _flag_tags(d.flags)
    elif d.transport == "udp":
        info = f"{d.sport} → {d.dport} Len={d.payload_len}"
    else:
        info = d.malformed or d.protocol
    if d.malformed:
        tags.add("malformed")
    tags.add("pending")
    return Row(n, t, d.src or "?", d.dst or "?", d.protocol, length,
               info + "  (not analyzed yet)", frozenset(tags))
