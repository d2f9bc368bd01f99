"""Small shared vocabulary of the engine: TCP flag bits, analysis flag bits, the decoded packet.

Everything here is plain data; no I/O.  The engine keeps per-packet facts in compact arrays
(see analyzer.index) and re-decodes a packet's bytes on demand when a view needs details.
"""
from __future__ import annotations

# --- TCP header flag bits (as in the TCP header byte 13) ---------------------------------
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
TCP_FLAG_LETTERS = ((SYN, "S"), (FIN, "F"), (RST, "R"), (PSH, "P"), (ACK, "A"), (URG, "U"),
                    (ECE, "E"), (CWR, "C"))


def flags_text(flags: int) -> str:
    """'SA', 'PA', 'FA' ... in a fixed order (empty string for no flags)."""
    return "".join(letter for bit, letter in TCP_FLAG_LETTERS if flags & bit)


# --- per-packet analysis flags ----------------------------------------------------------
# Names are tshark's `tcp.analysis.<name>` field suffixes where Wireshark has one.
ANALYSIS_NAMES: tuple[str, ...] = (
    "retransmission",          # 0
    "fast_retransmission",     # 1
    "spurious_retransmission", # 2
    "out_of_order",            # 3
    "lost_segment",            # 4  "previous segment not captured"
    "ack_lost_segment",        # 5  "ACKed segment that wasn't captured"
    "duplicate_ack",           # 6
    "zero_window",             # 7
    "zero_window_probe",       # 8
    "keep_alive",              # 9
    "keep_alive_ack",          # 10
    "window_update",           # 11
    "window_full",             # 12
    "reused_ports",            # 13
    "overlap_conflict",        # 14  retransmitted bytes differ from the first copy (ours)
    "size_limited",            # 15  caplen < len: "packet size limited during capture"
    "malformed",               # 16  a header could not be decoded
    "loopback_duplicate",      # 17  second copy of a packet seen twice on lo (not counted)
    "buffer_cap",              # 18  reassembly buffer cap hit in this direction
    "zero_window_probe_ack",   # 19  tshark's tcp.analysis.zero_window_probe_ack
)
ANALYSIS_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(ANALYSIS_NAMES)}


def analysis_list(bits: int) -> list[str]:
    return [name for i, name in enumerate(ANALYSIS_NAMES) if bits >> i & 1]


class Decoded:
    """What the bulk decoder learns from one frame (no Scapy objects).

    Addresses are text ("127.0.0.1", "::1"); ports/seq/ack are ints; offsets index into the
    frame bytes so a view can highlight fields.  `transport` is "tcp", "udp" or the name of
    what was found instead ("icmp", "arp", "ipv6-other", "other").
    """

    __slots__ = (
        "linktype", "l3_offset", "l4_offset", "payload_offset",
        "ip_version", "src", "dst", "ip_proto", "ttl",
        "transport", "sport", "dport",
        "seq", "ack", "flags", "window", "tcp_header_len", "tcp_options",
        "payload_len", "captured_payload_len",
        "protocol", "malformed", "vlan",
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

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return (f"Decoded({self.transport} {self.src}:{self.sport} -> {self.dst}:{self.dport} "
                f"seq={self.seq} ack={self.ack} flags={flags_text(self.flags)} "
                f"len={self.payload_len} malformed={self.malformed})")
