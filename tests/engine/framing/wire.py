"""Crafted TCP conversations as raw Ethernet frames (struct, no Scapy: hundreds of
conversations in a moment), fed to a real Engine or written to a real pcap."""
from __future__ import annotations

import struct

from analyzer.engine import Engine

ETH = bytes(12) + b"\x08\x00"
SYN, FIN, PSH, ACK = 0x02, 0x01, 0x08, 0x10


def frame(src: int, dst: int, sport: int, dport: int, seq: int, ack: int, flags: int,
          payload: bytes = b"") -> bytes:
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, 65000, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6,
                     0, bytes([127, 0, 0, src]), bytes([127, 0, 0, dst]))
    return ETH + ip + tcp + payload


class TcpConv:
    """Frames of one connection: handshake, data segments per direction, FIN teardown."""

    def __init__(self, cport: int = 40000, sport: int = 7005, t0: float = 1.7e9):
        self.ports = (cport, sport)
        self.seq = [1000, 5000]
        self.frames: list[tuple[float, bytes]] = []
        self.t = t0

    def _add(self, d: int, flags: int, payload: bytes = b"") -> None:
        src, dst = (1, 2) if d == 0 else (2, 1)
        sp, dp = self.ports if d == 0 else self.ports[::-1]
        self.t += 0.0001
        self.frames.append((self.t, frame(src, dst, sp, dp, self.seq[d], self.seq[1 - d],
                                          flags, payload)))
        self.seq[d] += len(payload) + (1 if flags & (SYN | FIN) else 0)

    def open(self) -> "TcpConv":
        self._add(0, SYN)
        self._add(1, SYN | ACK)
        self._add(0, ACK)
        return self

    def send(self, d: int, segments: list[bytes]) -> "TcpConv":
        for s in segments:
            self._add(d, PSH | ACK, s)
        return self

    def close(self) -> "TcpConv":
        self._add(0, FIN | ACK)
        self._add(1, FIN | ACK)
        self._add(0, ACK)
        return self


def engine_of(convs: list[TcpConv], decode_as: dict | None = None) -> Engine:
    """A finished Engine fed with the conversations' frames (in order of time)."""
    eng = Engine(decode_as=decode_as)
    frames = sorted((f for c in convs for f in c.frames), key=lambda f: f[0])
    for ts, data in frames:
        eng.feed((ts, 1, data, len(data), -1))
    eng.finish()
    return eng


def write_pcap(path: str, convs: list[TcpConv]) -> None:
    frames = sorted((f for c in convs for f in c.frames), key=lambda f: f[0])
    with open(path, "wb") as fp:
        fp.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, data in frames:
            fp.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(data), len(data)))
            fp.write(data)
