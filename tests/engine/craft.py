"""Crafting small TCP/UDP captures with Scapy for the engine tests."""
from __future__ import annotations

import struct

from scapy.all import IP, TCP, UDP, Ether, wrpcap  # noqa: F401

C, S = "127.0.0.1", "127.0.0.2"


def lenmsg(payload: bytes) -> bytes:
    return struct.pack("!I", len(payload)) + payload


class Conn:
    """Builds the packets of one TCP connection; seq numbers tracked per direction."""

    def __init__(self, cport=40000, sport=9001, c_isn=1000, s_isn=5000, client=C, server=S):
        self.cport, self.sport = cport, sport
        self.client, self.server = client, server
        self.seq = [c_isn, s_isn]
        self.pkts = []
        self.t = 1700000000.0

    def _pkt(self, d, flags, seq, ack, data=b""):
        src, dst = (self.client, self.server) if d == 0 else (self.server, self.client)
        sp, dp = (self.cport, self.sport) if d == 0 else (self.sport, self.cport)
        p = Ether() / IP(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=flags, seq=seq % 2**32,
                                                 ack=ack % 2**32, window=65000)
        if data:
            p = p / data
        self.t += 0.001
        p.time = self.t
        return p

    def handshake(self):
        self.pkts.append(self._pkt(0, "S", self.seq[0], 0))
        self.pkts.append(self._pkt(1, "SA", self.seq[1], self.seq[0] + 1))
        self.seq = [self.seq[0] + 1, self.seq[1] + 1]
        self.pkts.append(self._pkt(0, "A", self.seq[0], self.seq[1]))
        return self

    def segment(self, d, data, seq=None, flags="PA", advance=True):
        """One data segment in direction d (0=c2s); returns the packet."""
        s = self.seq[d] if seq is None else seq
        p = self._pkt(d, flags, s, self.seq[1 - d], data)
        if advance and seq is None:
            self.seq[d] += len(data)
        return p

    def send(self, d, data, sizes=None):
        """Append data in direction d split into segments of the given sizes (default one)."""
        sizes = sizes or [len(data)]
        pos = 0
        for n in sizes:
            self.pkts.append(self.segment(d, data[pos:pos + n]))
            pos += n
        assert pos == len(data)
        return self

    def fin(self):
        self.pkts.append(self._pkt(0, "FA", self.seq[0], self.seq[1]))
        self.pkts.append(self._pkt(1, "FA", self.seq[1], self.seq[0] + 1))
        self.pkts.append(self._pkt(0, "A", self.seq[0] + 1, self.seq[1] + 1))
        return self


def write(path, pkts):
    wrpcap(str(path), pkts)
    return str(path)


def write_cooked(path, pkts, linktype=113, copies=(4, 0), hatype=772, ifindex=(1, 1)):
    """A Linux cooked capture (SLL 113 or SLL2 276) of the IP packets in `pkts` (Ether layers
    dropped): each packet written once per packet type in `copies` (4 outgoing, 0 host), 10 us
    apart, with interface type `hatype` (772 loopback) and, for SLL2, interface index
    ifindex[k] for copy k."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for p in pkts:
            ip = bytes(p[IP])
            for k, ptype in enumerate(copies):
                if linktype == 113:
                    head = struct.pack("!HHH8sH", ptype, hatype, 0, b"", 0x0800)
                else:
                    head = struct.pack("!HHiHBB8s", 0x0800, 0, ifindex[k], hatype, ptype, 0, b"")
                frame = head + ip
                t = float(p.time) + k * 0.00001
                sec = int(t)
                f.write(struct.pack("<IIII", sec, int(round((t - sec) * 1e6)), len(frame),
                                    len(frame)) + frame)
    return str(path)
