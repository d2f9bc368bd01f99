"""pcap LINKTYPE_* values wirelab decodes, with their names (for messages and the detail view)."""
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
}

SUPPORTED = frozenset(NAMES)


def name(linktype: int) -> str:
    return NAMES.get(linktype, f"linktype {linktype}")


def is_supported(linktype: int) -> bool:
    return linktype in SUPPORTED


def unsupported_warning(linktype: int) -> str:
    """The one warning line a source emits once per unsupported linktype."""
    return f"unsupported linktype {linktype}: packets are listed but not decoded"
