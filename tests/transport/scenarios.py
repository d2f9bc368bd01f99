"""Crafted TCP conversations, one phenomenon each (built with Scapy, checked against tshark)."""
from __future__ import annotations

from tests.transport.helpers import Crafter


def retransmission(k: Crafter):
    c, s = k.handshake()
    k.tcp(k.c, k.s, "PA", c, s, b"hello")
    k.tcp(k.c, k.s, "PA", c, s, b"hello", dt=0.3)          # RTO: same data again
    k.tcp(k.s, k.c, "A", s, c + 5)
    k.tcp(k.c, k.s, "PA", c + 5, s, b"world")


def fast_retransmission(k: Crafter):
    c, s = k.handshake()
    k.tcp(k.c, k.s, "PA", c, s, b"a" * 100)
    k.tcp(k.s, k.c, "A", s, c + 100)
    # segment c+100 is lost; three more arrive, each answered by a dup ack
    for i in range(1, 4):
        k.tcp(k.c, k.s, "PA", c + 100 * (i + 1), s, b"b" * 100, dt=0.0001)
        k.tcp(k.s, k.c, "A", s, c + 100, dt=0.0001)
    k.tcp(k.c, k.s, "PA", c + 100, s, b"c" * 100, dt=0.0002)   # fast retransmission
    k.tcp(k.s, k.c, "A", s, c + 500)


def out_of_order(k: Crafter):
    c, s = k.handshake(dt=0.01)                          # initial RTT 20 ms
    k.tcp(k.c, k.s, "PA", c + 10, s, b"second", dt=0.01)
    k.tcp(k.c, k.s, "PA", c, s, b"first.....", dt=0.001)     # arrives 1 ms later: out of order
    k.tcp(k.s, k.c, "A", s, c + 16)


def lost_and_acked_unseen(k: Crafter):
    c, s = k.handshake()
    k.tcp(k.c, k.s, "PA", c, s, b"x" * 10)
    k.tcp(k.c, k.s, "PA", c + 20, s, b"z" * 10)              # 10 bytes never captured
    k.tcp(k.s, k.c, "A", s, c + 30)
    k.tcp(k.s, k.c, "PA", s + 50, c + 30, b"late")           # server data after a gap
    k.tcp(k.c, k.s, "A", c + 30, s + 54)
    k.tcp(k.s, k.c, "A", s + 54, c + 40)                     # acks client bytes never seen


def duplicate_acks(k: Crafter):
    c, s = k.handshake()
    k.tcp(k.c, k.s, "PA", c, s, b"q" * 8)
    k.tcp(k.s, k.c, "A", s, c + 8)
    k.tcp(k.s, k.c, "A", s, c + 8)
    k.tcp(k.s, k.c, "A", s, c + 8)
    k.tcp(k.c, k.s, "PA", c + 8, s, b"r" * 8, dt=0.5)


def zero_window(k: Crafter):
    c, s = k.handshake()
    k.tcp(k.c, k.s, "PA", c, s, b"d" * 100)
    k.tcp(k.s, k.c, "A", s, c + 100, win=0)                  # zero window
    k.tcp(k.c, k.s, "A", c + 100, s, b"p", dt=0.2)           # zero window probe (1 byte)
    k.tcp(k.s, k.c, "A", s, c + 100, win=0)                  # probe ack
    k.tcp(k.s, k.c, "A", s, c + 100, win=4000, dt=0.1)       # window update
    k.tcp(k.c, k.s, "PA", c + 100, s, b"e" * 50)
    k.tcp(k.s, k.c, "A", s, c + 150, win=4000)


def keep_alive(k: Crafter):
    c, s = k.handshake()
    k.tcp(k.c, k.s, "PA", c, s, b"hi")
    k.tcp(k.s, k.c, "A", s, c + 2)
    k.tcp(k.c, k.s, "A", c + 1, s, dt=5.0)                   # keep-alive: seq one below next
    k.tcp(k.s, k.c, "A", s, c + 2)                           # keep-alive ack
    k.tcp(k.c, k.s, "A", c + 1, s, b"\x00", dt=5.0)          # 1-byte keep-alive
    k.tcp(k.s, k.c, "A", s, c + 2)


def spurious_retransmission(k: Crafter):
    c, s = k.handshake()
    k.tcp(k.c, k.s, "PA", c, s, b"abc")
    k.tcp(k.s, k.c, "A", s, c + 3)
    k.tcp(k.c, k.s, "PA", c, s, b"abc", dt=0.3)              # already acked: spurious


def window_full(k: Crafter):
    c, s = k.handshake()
    k.tcp(k.s, k.c, "A", s, c, win=100)
    k.tcp(k.c, k.s, "PA", c, s, b"w" * 100)                  # fills the 100-byte window
    k.tcp(k.s, k.c, "A", s, c + 100, win=1000)


def window_full_scaled(k: Crafter):
    c, s = k.handshake(wscale=2)
    k.tcp(k.s, k.c, "A", s, c, win=25)                       # 25 << 2 = 100 bytes
    k.tcp(k.c, k.s, "PA", c, s, b"w" * 100)
    k.tcp(k.s, k.c, "A", s, c + 100, win=1000)


def syn_retransmission(k: Crafter):
    k.tcp(k.c, k.s, "S", 1000, 0)
    k.tcp(k.c, k.s, "S", 1000, 0, dt=1.0)
    k.tcp(k.s, k.c, "SA", 5000, 1001)
    k.tcp(k.c, k.s, "A", 1001, 5001)
    k.tcp(k.c, k.s, "FA", 1001, 5001)
    k.tcp(k.s, k.c, "FA", 5001, 1002)
    k.tcp(k.c, k.s, "A", 1002, 5002)


def reused_ports(k: Crafter):
    c, s = k.handshake(cisn=1000, sisn=5000)
    k.tcp(k.c, k.s, "FA", c, s)
    k.tcp(k.s, k.c, "FA", s, c + 1)
    k.tcp(k.c, k.s, "A", c + 1, s + 1)
    c, s = k.handshake(cisn=90000, sisn=70000)           # same 4-tuple, new ISN
    k.tcp(k.c, k.s, "PA", c, s, b"again")
    k.tcp(k.c, k.s, "RA", c + 5, s)


def sequence_wrap(k: Crafter):
    c, s = k.handshake(cisn=0xFFFFFF00, sisn=0xFFFFFFF0)
    for i in range(4):
        k.tcp(k.c, k.s, "PA", c + 100 * i, s, b"w" * 100)
        k.tcp(k.s, k.c, "PA", s + 10 * i, c + 100 * (i + 1), b"v" * 10)
    k.tcp(k.c, k.s, "PA", c + 100, s + 40, b"w" * 100, dt=0.3)   # retransmission across the wrap


def mid_stream(k: Crafter):
    k.tcp(k.c, k.s, "PA", 777, 888, b"middle")
    k.tcp(k.s, k.c, "PA", 888, 783, b"reply!")
    k.tcp(k.c, k.s, "A", 783, 894)
    k.tcp(k.c, k.s, "PA", 790, 894, b"gap")                  # 7 bytes missing
    k.tcp(k.s, k.c, "A", 894, 793)


def rst_abort(k: Crafter):
    c, s = k.handshake()
    k.tcp(k.c, k.s, "PA", c, s, b"bye")
    k.tcp(k.c, k.s, "RA", c + 3, s)


ALL = {f.__name__: f for f in (
    retransmission, fast_retransmission, out_of_order, lost_and_acked_unseen, duplicate_acks,
    zero_window, keep_alive, spurious_retransmission, window_full, window_full_scaled,
    syn_retransmission, reused_ports, sequence_wrap, mid_stream, rst_abort)}

def synack_with_new_isn(k: Crafter):
    k.tcp(k.c, k.s, "S", 1000, 0)
    k.tcp(k.s, k.c, "SA", 5000, 1001)
    k.tcp(k.s, k.c, "SA", 7000, 1001, dt=1.0)          # the server restarted its handshake
    k.tcp(k.c, k.s, "A", 1001, 7001)
    k.tcp(k.c, k.s, "PA", 1001, 7001, b"data")


def synack_seen_first(k: Crafter):
    k.tcp(k.s, k.c, "SA", 5000, 1001)
    k.tcp(k.c, k.s, "A", 1001, 5001)
    k.tcp(k.c, k.s, "PA", 1001, 5001, b"hi")
    k.tcp(k.s, k.c, "A", 5001, 1003)


def syn_with_data(k: Crafter):
    k.tcp(k.c, k.s, "S", 1000, 0, b"fastopen")
    k.tcp(k.s, k.c, "SA", 5000, 1009)
    k.tcp(k.c, k.s, "A", 1009, 5001)


def simultaneous_open(k: Crafter):
    k.tcp(k.c, k.s, "S", 1000, 0)
    k.tcp(k.s, k.c, "S", 5000, 0)
    k.tcp(k.c, k.s, "SA", 1000, 5001)
    k.tcp(k.s, k.c, "SA", 5000, 1001)
    k.tcp(k.c, k.s, "A", 1001, 5001)


def reuse_after_rst_same_isn(k: Crafter):
    c, s = k.handshake(cisn=1000)
    k.tcp(k.c, k.s, "RA", c, s)
    k.handshake(cisn=1000, sisn=9000)                   # same client ISN again


ALL.update({f.__name__: f for f in (synack_with_new_isn, synack_seen_first, syn_with_data,
                                     simultaneous_open, reuse_after_rst_same_isn)})
