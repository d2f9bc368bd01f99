"""What the bulk decoder learns from one frame (`Decoded`) and the TCP header flag bits.

Plain data, no I/O: the engine keeps per-packet facts in compact arrays and decodes a
packet's bytes again when a view needs its details.
"""
from __future__ import annotations

# --- TCP header flag bits (as in the TCP header byte 13) ---------------------------------
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
TCP_FLAG_LETTERS = ((SYN, "S"), (FIN, "F"), (RST, "R"), (PSH, "P"), (ACK, "A"), (URG, "U"),
                    (ECE, "E"), (CWR, "C"))


def flags_text(flags: int) -> str:
    """'SA', 'PA', 'FA' ... in a fixed order (empty string for no flags)."""
    return "".join(letter for bit, letter in TCP_FLAG_LETTERS if flags & bit)


class Decoded:
    """What the bulk decoder learns from one frame (no Scapy objects).

    Addresses are text ("127.0.0.1", "::1"); ports/seq/ack are ints; offsets index into the
    frame bytes so a view can highlight fields.  `transport` is "tcp", "udp" or the name of
    what was found instead ("icmp", "arp", "ipv6-other", "other").  Tunnels (PPPoE, GRE,
    IP-in-IP, MPLS, VXLAN) are followed: addresses, ports and offsets are the innermost ones.
    """

    __slots__ = (
        "linktype", "l3_offset", "l4_offset", "payload_offset",
        "ip_version", "src", "dst", "ip_proto", "ttl",
        "transport", "sport", "dport",
        "seq", "ack", "flags", "window", "tcp_header_len", "tcp_options",
        "payload_len", "captured_payload_len",
        "protocol", "malformed", "vlan", "undecoded",
    )

    def __init__(self) -> None:
        self.linktype = 0
        self.l3_offset = -1
        self.l4_offset = -1
        self.payload_offset = -1
        self.ip_version = 0
        self.src: str | None = None
        self.dst: str | None = None
        self.ip_proto = -1
        self.ttl = 0
        self.transport = "other"
        self.sport = 0
        self.dport = 0
        self.seq = 0
        self.ack = 0
        self.flags = 0
        self.window = 0            # raw header value (unscaled)
        self.tcp_header_len = 0
        self.tcp_options: dict | None = None  # {"mss":..,"wscale":..,"sack_perm":True,"sack":[(l,r)],"ts":(val,ecr)}
        self.payload_len = 0       # transport payload length according to the headers
        self.captured_payload_len = 0  # bytes of it actually present in the frame
        self.protocol = "OTHER"    # label for the packet list: "TCP", "UDP", "ARP", ...
        self.malformed: str | None = None  # reason when a header could not be decoded
        self.vlan: int | None = None
        # what stopped the decoder before TCP/UDP, when it is not a broken header: a link type,
        # ethertype or encapsulation it does not follow ("802.11 radiotap (linktype 127)",
        # "ethertype 0x88cc (LLDP)", "GRE version 1 (PPTP)"); None when decoded (or ARP)
        self.undecoded: str | None = None

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return (f"Decoded({self.transport} {self.src}:{self.sport} -> {self.dst}:{self.dport} "
                f"seq={self.seq} ack={self.ack} flags={flags_text(self.flags)} "
                f"len={self.payload_len} malformed={self.malformed})")

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
