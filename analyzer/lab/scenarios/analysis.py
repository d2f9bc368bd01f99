"""Helpers the scenarios share to read the engine's answers and phrase them."""
from __future__ import annotations

from analyzer.sources.sidecar import AppIO


def port_of(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


def conv_by_client_port(eng, cport: int, transport: str = "tcp"):
    """The LAST conversation whose client used this port (ports can be reused on lo)."""
    found = None
    for conv in eng.conversations:
        if conv.transport == transport and port_of(conv.client) == cport:
            found = conv
    return found


def convs_to_port(eng, sport: int, transport: str = "tcp") -> list:
    return [c for c in eng.conversations if c.transport == transport and port_of(c.server) == sport]


def describe_conv(conv) -> str:
    hs, td = conv.handshake, conv.teardown
    parts = [f"conversation {conv.id} {conv.client} -> {conv.server}"]
    if conv.transport == "tcp":
        if hs.get("complete"):
            rtt = hs.get("rtt_ms")
            parts.append(f"handshake in frames {_frames(hs.get('frames'))}"
                         + (f" (rtt {rtt:.3f} ms)" if isinstance(rtt, (int, float)) else ""))
        else:
            parts.append("no complete handshake")
        kind = td.get("kind")
        if kind and kind != "none":
            who = td.get("initiator")
            parts.append(f"teardown {kind}" + (f" started by the {who}" if who else "")
                         + f" in frames {_frames(td.get('frames'))}")
        parts.append(f"state {conv.state} history {conv.history}")
    return ", ".join(parts)


def _frames(frames) -> str:
    frames = list(frames or [])
    return ",".join(str(f) for f in frames) if frames else "-"


def data_packets(eng, conv, direction: str) -> list[int]:
    """Packet numbers of the conversation carrying payload in `direction` (c2s/s2c)."""
    out = []
    cport = port_of(conv.client)
    for n in range(conv.first_packet, conv.last_packet + 1):
        if eng.stream_of(n) != conv.id:
            continue
        d = eng.decoded(n)
        if d.transport != conv.transport or d.captured_payload_len <= 0:
            continue
        if (d.sport == cport) == (direction == "c2s"):
            out.append(n)
    return out


def stream_bytes(eng, conv, direction: str) -> bytes:
    """The reassembled bytes of one direction (follow stream); gaps become b''."""
    return b"".join(ch.data for ch in eng.follow(conv) if ch.direction == direction)


def app_calls(records: list[AppIO] | None, conv, side: str, op: str) -> list[AppIO]:
    """Sidecar records of one program's send()/recv() calls on this conversation."""
    if not records:
        return []
    return [r for r in records if r.client == conv.client and r.server == conv.server
            and r.side == side and r.op == op]


def messages(conv, direction: str) -> list:
    return [m for m in conv.messages if m.direction == direction]
