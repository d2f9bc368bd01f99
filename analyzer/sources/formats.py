"""What a file looks like, from its first bytes: the message for a file wirelab cannot read
says "bzip2-compressed" or "Solaris snoop" rather than a bare magic number."""
from __future__ import annotations

# (magic, what it is, what to do) for formats wirelab does not read
_KNOWN = [
    (b"BZh", "bzip2-compressed", "decompress it first (bunzip2)"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it first (unxz)"),
    (b"\x04\x22\x4d\x18", "lz4-compressed", "decompress it first (unlz4)"),
    (b"PK\x03\x04", "a zip archive", "extract the capture from it first (unzip)"),
    (b"GMBU", "a Microsoft Network Monitor 2 capture", "convert it: editcap -F pcapng"),
    (b"RTSS", "a Microsoft Network Monitor 1 capture", "convert it: editcap -F pcapng"),
    (b"XCP\x00", "a NetXRay / Sniffer capture", "convert it: editcap -F pcapng"),
    (b"TRSNIFF data", "a Sniffer capture", "convert it: editcap -F pcapng"),
    (b"\x7fELF", "a program (ELF executable)", None),
    (b"GIF8", "a GIF image", None),
    (b"\x89PNG", "a PNG image", None),
    (b"\xff\xd8\xff", "a JPEG image", None),
    (b"%PDF", "a PDF document", None),
]
_PRINTABLE = frozenset(b"\t\n\r") | frozenset(range(0x20, 0x7F))


def looks_like(head: bytes) -> tuple[str, str | None]:
    """(description, advice or None) of a file that is not a capture wirelab reads."""
    for magic, what, advice in _KNOWN:
        if head.startswith(magic):
            return what, advice
    if head and all(b in _PRINTABLE for b in head):
        return "text", None
    if head and _erf_like(head):
        return "possibly an Endace ERF capture (no magic number)", "convert it: editcap -F pcapng"
    return "not a known capture format", None


def _erf_like(head: bytes) -> bool:
    """ERF has no magic: a record header with a known type (1-27) and a plausible length."""
    if len(head) < 16:
        return False
    rtype = head[8] & 0x7F
    rlen = int.from_bytes(head[10:12], "big")
    return 1 <= rtype <= 27 and 16 <= rlen <= 65535 + 16 and head[9] & 0xF0 == 0
