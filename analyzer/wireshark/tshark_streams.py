"""tshark's conversation numbering read the way its conversation tables count: innermost
header only, without the stream ids it gives to headers that are not conversation packets.

tshark's `tcp.stream`/`udp.stream` list one value per transport header in a frame:
  * a tunnel (VXLAN, GRE over UDP ...) lists the outer header's stream first: the packet
    belongs to the innermost one (the last value); a stream that is only ever an outer header
    is the tunnel itself, not a conversation of the traffic inside;
  * a header quoted inside an ICMP error gets a stream too (a new one when tshark had not
    seen that conversation), but `-z conv,tcp|udp` does not count it: not a conversation
    packet;
  * a dissector that expects a connection (SIP/SDP -> RTP or T.38, FTP PASV -> ftp-data,
    SOCKS, VNC ...) opens a conversation with a wildcard address or port, and tshark then
    numbers every matching 4-tuple as ONE stream (its conv tables still list them apart).

StreamNumbering renumbers tshark's streams per transport by (tshark stream, endpoint pair)
in order of first packet: the same as tshark's ids when none of the above happens, and
otherwise the numbering its conversation tables imply.  `notes()` says what was renumbered.
"""
from __future__ import annotations

from array import array

TRANSPORTS = ("tcp", "udp")
_QUOTING = frozenset(("icmp", "icmpv6"))


class Layer:
    """The innermost TCP/UDP header of one tshark row (see innermost())."""

    __slots__ = ("transport", "stream", "outer", "ip", "quoted", "above", "tunnel")

    def __init__(self, transport: str, stream: int, outer: list[tuple[str, int]], ip: str,
                 quoted: bool, above: str, tunnel: str) -> None:
        self.transport = transport
        self.stream = stream          # tshark's stream id of the innermost header
        self.outer = outer            # (transport, stream) of the outer headers (tunnels)
        self.ip = ip                  # "ip" or "ipv6": the layer carrying it
        self.quoted = quoted          # inside an ICMP error
        self.above = above            # the protocol tshark dissected on top ("t38", "data")
        self.tunnel = tunnel          # the protocol above the outermost header ("vxlan")


def last(value: str) -> str:
    """The last of tshark's comma-aggregated occurrences ("" when absent)."""
    return value.rsplit(",", 1)[-1]


def innermost(protocols: str, tcp_stream: str, udp_stream: str) -> Layer | None:
    """The innermost transport header of a row (frame.protocols, tcp.stream, udp.stream)."""
    if not tcp_stream and not udp_stream:
        return None
    stack = protocols.split(":")
    k = max((i for i, p in enumerate(stack) if p in TRANSPORTS), default=-1)
    if k < 0:
        return None
    transport = stack[k]
    values = {t: [int(v) for v in text.split(",") if v]
              for t, text in (("tcp", tcp_stream), ("udp", udp_stream))}
    if not values[transport]:
        return None
    stream = values[transport].pop()
    outer = [(t, v) for t in TRANSPORTS for v in values[t]]
    below = stack[:k]
    ip = next((p for p in reversed(below) if p in ("ip", "ipv6")), "ip")
    above = stack[k + 1] if k + 1 < len(stack) else transport
    j = min(i for i, p in enumerate(stack) if p in TRANSPORTS)
    tunnel = stack[j + 1] if outer and j < k else ""
    return Layer(transport, stream, outer, ip, bool(_QUOTING.intersection(below)), above,
                 tunnel)


class StreamNumbering:
    """Per transport: (tshark stream, endpoint pair) -> conversation id, in order of first
    packet; and what tshark numbered differently (for notes and for what is not compared)."""

    def __init__(self) -> None:
        self.ids: dict[tuple, int] = {}
        self.count = {t: 0 for t in TRANSPORTS}
        self.frames: dict[tuple[str, int], array] = {}     # tshark stream -> its frames
        self.pairs: dict[tuple[str, int], int] = {}        # tshark stream -> endpoint pairs
        self.above: dict[tuple[str, int], str] = {}        # tshark stream -> dissector
        self.quoted: dict[tuple[str, int], int] = {}       # stream -> quoted headers
        self.outer: dict[tuple[str, int], str] = {}        # stream -> what it carries
        self.quoted_packets = 0

    def add(self, number: int, layer: Layer, endpoints: frozenset) -> int:
        """The conversation id of a (not quoted) packet."""
        key = (layer.transport, layer.stream)
        for outer_key in layer.outer:
            self.outer.setdefault(outer_key, layer.tunnel)
        cid = self.ids.get((key, endpoints))
        if cid is None:
            cid = self.ids[(key, endpoints)] = self.count[layer.transport]
            self.count[layer.transport] = cid + 1
            self.pairs[key] = self.pairs.get(key, 0) + 1
            self.above.setdefault(key, layer.above)
        frames = self.frames.get(key)
        if frames is None:
            frames = self.frames[key] = array("l")
        frames.append(number)
        return cid

    def add_quoted(self, layer: Layer) -> None:
        key = (layer.transport, layer.stream)
        self.quoted[key] = self.quoted.get(key, 0) + 1
        self.quoted_packets += 1

    def merged(self) -> list[tuple[str, int]]:
        """tshark streams that hold several endpoint pairs (a dissector's conversation)."""
        return sorted(k for k, n in self.pairs.items() if n > 1)

    def merged_frames(self) -> set[int]:
        out: set[int] = set()
        for key in self.merged():
            out.update(self.frames[key])
        return out

    def notes(self) -> list[str]:
        """What tshark numbers differently, one line each (empty when nothing)."""
        out = []
        merged = self.merged()
        if merged:
            n = sum(len(self.frames[k]) for k in merged)
            names = ", ".join(sorted({self.above[k] for k in merged}))
            out.append(f"tshark: {n} packets in conversations its dissectors opened ({names}): "
                       f"analysis not compared, numbered by endpoints")
        if self.quoted_packets:
            alone = sorted(k for k in self.quoted if k not in self.pairs)
            n = self.quoted_packets
            text = (f"tshark: {n} packet{'s' if n != 1 else ''} quote{'' if n != 1 else 's'} "
                    f"a header inside an ICMP error: not conversation packets")
            if alone:
                text += " (tshark opened " + ", ".join(f"{t} stream {s}" for t, s in alone) + \
                        " for them alone)"
            out.append(text)
        tunnels = sorted(k for k in self.outer if k not in self.pairs)
        if tunnels:
            out.append("tshark: outer headers of tunnels only, compared on the inner ones: "
                       + ", ".join(f"{t} stream {s} ({self.outer[(t, s)]})" for t, s in tunnels))
        return out
