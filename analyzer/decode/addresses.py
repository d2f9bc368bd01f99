"""Address bytes -> text, with bounded caches: the same few addresses repeat in every capture."""
from __future__ import annotations

import socket
from typing import Callable

CACHE_MAX = 65536      # entries per cache; a full cache starts over


class _TextCache(dict):
    """bytes (or int) -> text; a miss converts and stores (so a hit is one C-level dict
    lookup)."""

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[bytes], str]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, b: bytes) -> str:
        if len(self) >= CACHE_MAX:
            self.clear()
        s = self[b] = self.convert(b)
        return s


def _ntop6(b: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6, b)


# ip4_text(b"\x7f\0\0\1") -> "127.0.0.1";  ip6_text(16 bytes) -> "::1"
ip4_text: Callable[[bytes], str] = _TextCache(socket.inet_ntoa).__getitem__
ip6_text: Callable[[bytes], str] = _TextCache(_ntop6).__getitem__
# ip4_n_text(0x7F000001) -> "127.0.0.1": the same, for an address read as a number (no bytes
# object made for it); its cache, IP4_N_TEXTS, a plain dict the decoder's twin looks in first
IP4_N_TEXTS: dict[int, str] = {}


def ip4_n_text(n: int) -> str:
    s = IP4_N_TEXTS.get(n)
    if s is None:
        if len(IP4_N_TEXTS) >= CACHE_MAX:
            IP4_N_TEXTS.clear()
        s = IP4_N_TEXTS[n] = socket.inet_ntoa(n.to_bytes(4, "big"))
    return s


def mac_text(b: bytes) -> str:
    """'0a:1b:2c:3d:4e:5f' for 6 address bytes."""
    return bytes(b).hex(":")
