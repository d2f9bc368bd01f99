"""Small deterministic captures for the TUI tests, crafted with Scapy and written with wrpcap.

`lenmsg_capture(path)`: one lenmsg conversation on port 9001 with a full handshake,
two messages coalesced in one segment, one message split over two segments, a
retransmission, a FIN teardown; then one udpecho exchange on port 9005.
"""
from __future__ import annotations

import struct

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

CLIENT, SERVER = "127.0.0.1", "127.0.0.1"
CPORT, SPORT = 40000, 9001
T0 = 1764090000.0


def _lm(text: bytes) -> bytes:
    return struct.pack("!I", len(text)) + text


def _pkt(t, sport, dport, flags, seq, ack, payload=b""):
    p = Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00") / IP(src=CLIENT, dst=SERVER, id=1) / \
        TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=65495, options=[])
    if payload:
        p = p / payload
    p.time = T0 + t
    return p


def lenmsg_packets():
    c_isn, s_isn = 1000, 5000
    c, s = c_isn + 1, s_isn + 1
    pk = []
    t = 0.0

    def c2s(flags, payload=b""):
        nonlocal c, t
        t += 0.001
        pk.append(_pkt(t, CPORT, SPORT, flags, c, s, payload))
        c += len(payload) + (1 if "F" in flags else 0)

    def s2c(flags, payload=b""):
        nonlocal s, t
        t += 0.001
        pk.append(_pkt(t, SPORT, CPORT, flags, s, c, payload))
        s += len(payload) + (1 if "F" in flags else 0)

    t += 0.001
    pk.append(_pkt(t, CPORT, SPORT, "S", c_isn, 0))          # 1 SYN
    t += 0.001
    pk.append(_pkt(t, SPORT, CPORT, "SA", s_isn, c))         # 2 SYN-ACK
    c2s("A")                                                 # 3 ACK
    c2s("PA", _lm(b"hello"))                                 # 4 one message
    s2c("PA", _lm(b"HELLO"))                                 # 5 reply
    c2s("PA", _lm(b"one") + _lm(b"two"))                     # 6 two messages coalesced
    s2c("PA", _lm(b"ONE") + _lm(b"TWO"))                     # 7
    big = _lm(b"split-across-two-segments")
    c2s("PA", big[:10])                                      # 8 first part
    c2s("PA", big[10:])                                      # 9 second part
    s2c("PA", _lm(b"SPLIT-ACROSS-TWO-SEGMENTS"))             # 10
    # retransmission of packet 10 (same seq, same bytes)
    t += 0.2
    pk.append(_pkt(t, SPORT, CPORT, "PA", s - len(_lm(b"SPLIT-ACROSS-TWO-SEGMENTS")), c,
                   _lm(b"SPLIT-ACROSS-TWO-SEGMENTS")))       # 11 retransmission
    c2s("A")                                                 # 12
    c2s("FA")                                                # 13 FIN
    s2c("FA")                                                # 14 FIN
    c2s("A")                                                 # 15 last ACK
    # udp echo
    u1 = Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00") / IP(src=CLIENT, dst=SERVER, id=1) / \
        UDP(sport=40001, dport=9005) / b"ping"
    u1.time = T0 + t + 0.01
    u2 = Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00") / IP(src=SERVER, dst=CLIENT, id=1) / \
        UDP(sport=9005, dport=40001) / b"PING"
    u2.time = T0 + t + 0.02
    pk += [u1, u2]                                           # 16, 17
    return pk


def lenmsg_capture(path: str) -> str:
    wrpcap(str(path), lenmsg_packets())
    return str(path)
