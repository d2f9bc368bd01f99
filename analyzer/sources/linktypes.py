"""pcap LINKTYPE_* values wirelab decodes, with their names (for messages and the detail view),
and NOT_DECODED: link types tshark reads that wirelab lists without decoding."""
from __future__ import annotations

NULL = 0          # BSD loopback: 4-byte address family in the capturing host's byte order
ETHERNET = 1
RAW_12 = 12       # "raw IP" as written by some BSDs (DLT_RAW's historical value)
RAW = 101         # raw IP, version from the first nibble
LOOP = 108        # OpenBSD loopback: 4-byte address family, network byte order
LINUX_SLL = 113   # Linux cooked capture v1 (tcpdump -i any)
IPV4 = 228        # raw IPv4
IPV6 = 229        # raw IPv6
LINUX_SLL2 = 276  # Linux cooked capture v2
PPP = 9           # PPP, address/control 0xFF 0x03 optional
PPP_HDLC = 50     # PPP in HDLC-like framing (Cisco HDLC when the address is 0x0F/0x8F)
PPP_ETHER = 51    # PPPoE session header, no Ethernet
C_HDLC = 104      # Cisco HDLC: address, control, 2-byte protocol (an ethertype)
PPP_WITH_DIR = 204    # one direction byte, then PPP
C_HDLC_WITH_DIR = 205  # one direction byte, then Cisco HDLC
NFLOG = 239       # Linux netfilter log: 4-byte header, then TLVs; TLV 9 holds the IP packet

NAMES: dict[int, str] = {
    NULL: "BSD loopback",
    ETHERNET: "Ethernet",
    RAW_12: "Raw IP",
    RAW: "Raw IP",
    LOOP: "OpenBSD loopback",
    LINUX_SLL: "Linux cooked (SLL)",
    IPV4: "Raw IPv4",
    IPV6: "Raw IPv6",
    LINUX_SLL2: "Linux cooked v2 (SLL2)",
    PPP: "PPP",
    PPP_HDLC: "PPP in HDLC framing",
    PPP_ETHER: "PPPoE",
    C_HDLC: "Cisco HDLC",
    PPP_WITH_DIR: "PPP with direction",
    C_HDLC_WITH_DIR: "Cisco HDLC with direction",
    NFLOG: "Linux NFLOG",
}

# link types tshark reads that wirelab lists without decoding (shown in `summary --help`)
NOT_DECODED: dict[int, str] = {
    105: "802.11", 119: "802.11 Prism", 127: "802.11 radiotap", 163: "802.11 AVS",
    192: "PPI", 242: "IP over InfiniBand", 107: "Frame Relay", 140: "SS7 MTP2",
    143: "DOCSIS", 177: "Linux LAPD", 187: "Bluetooth HCI H4", 189: "USB Linux",
    195: "IEEE 802.15.4", 201: "Bluetooth HCI H4 with direction", 220: "USB Linux mmapped",
    227: "SocketCAN", 249: "USBPcap", 253: "Linux netlink",
}

SUPPORTED = frozenset(NAMES)


def name(linktype: int) -> str:
    return NAMES.get(linktype) or NOT_DECODED.get(linktype) or f"linktype {linktype}"


def not_decoded_text() -> str:
    """'802.11 (105), 802.11 Prism (119), ...': the link types listed, not decoded."""
    return ", ".join(f"{what} ({lt})" for lt, what in sorted(NOT_DECODED.items()))


def is_supported(linktype: int) -> bool:
    return linktype in SUPPORTED


def unsupported_warning(linktype: int) -> str:
    """The one warning line a source emits once per unsupported linktype."""
    return f"unsupported linktype {linktype}: packets are listed but not decoded"
