"""Seeded random TCP conversations (gaps, retransmissions, reordering, dup acks, zero
windows, keep-alives, odd flags) in one capture: every per-packet flag must match tshark."""
from __future__ import annotations

import random

import pytest

from tests.transport.helpers import Crafter, flag_mismatches, stream_mismatches
from tests.transport.tshark_oracle import have_tshark, tshark_rows

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not have_tshark(), reason="tshark not installed")]

DTS = (0.00005, 0.0005, 0.002, 0.004, 0.03, 0.3)
WINDOWS = (0, 1, 100, 1000, 65000, 65000, 65000)


def random_conversation(k: Crafter, rng: random.Random, cport: int, events: int = 30) -> None:
    c, s = ("127.0.0.1", cport), ("127.0.0.1", 9001)
    ends = [[c, s], [s, c]]
    nxt = [rng.randrange(1 << 32), rng.randrange(1 << 32)]
    sent: list[list[tuple[int, int]]] = [[], []]
    win = [65000, 65000]
    if rng.random() < 0.8:                                   # a handshake, usually
        ws = rng.choice((None, None, 0, 2, 7))
        opts = [("MSS", 1460)] + ([("WScale", ws)] if ws is not None else [])
        k.tcp(c, s, "S", nxt[0], 0, opts=opts, dt=rng.choice(DTS))
        nxt[0] = (nxt[0] + 1) & 0xFFFFFFFF
        sopts = opts if rng.random() < 0.8 else [("MSS", 1460)]
        k.tcp(s, c, "SA", nxt[1], nxt[0], opts=sopts, dt=rng.choice(DTS))
        nxt[1] = (nxt[1] + 1) & 0xFFFFFFFF
        k.tcp(c, s, "A", nxt[0], nxt[1], dt=rng.choice(DTS))
    for _ in range(events):
        d = rng.randrange(2)
        src, dst = ends[d]
        dt = rng.choice(DTS)
        if rng.random() < 0.3:
            win[d] = rng.choice(WINDOWS)
        acked = nxt[1 - d]
        if rng.random() < 0.15:
            acked = (acked - rng.choice((1, 10, 100))) & 0xFFFFFFFF
        elif rng.random() < 0.05:
            acked = (acked + rng.choice((1, 50))) & 0xFFFFFFFF
        kind = rng.random()
        if kind < 0.35:                                          # new data, maybe after a gap
            gap = rng.choice((0, 0, 0, 0, 10))
            n = rng.choice((1, 2, 10, 100))
            seq = (nxt[d] + gap) & 0xFFFFFFFF
            k.tcp(src, dst, "PA", seq, acked, b"d" * n, win=win[d], dt=dt)
            sent[d].append((seq, n))
            nxt[d] = (seq + n) & 0xFFFFFFFF
        elif kind < 0.5 and sent[d]:                             # resend an older segment
            seq, n = rng.choice(sent[d])
            k.tcp(src, dst, "PA", seq, acked, b"r" * n, win=win[d], dt=dt)
        elif kind < 0.75:                                        # pure ack (dup or not)
            k.tcp(src, dst, "A", nxt[d], acked, win=win[d], dt=dt)
        elif kind < 0.82:                                        # keep-alive
            k.tcp(src, dst, "A", (nxt[d] - 1) & 0xFFFFFFFF, acked,
                  rng.choice((b"", b"\x00")), win=win[d], dt=dt)
        elif kind < 0.88:                                        # 1-byte probe at nextseq
            k.tcp(src, dst, "PA", nxt[d], acked, b"p", win=win[d], dt=dt)
        elif kind < 0.93:                                        # FIN (maybe with data)
            n = rng.choice((0, 5))
            k.tcp(src, dst, "FPA" if n else "FA", nxt[d], acked, b"f" * n, win=win[d], dt=dt)
            nxt[d] = (nxt[d] + n + 1) & 0xFFFFFFFF
        elif kind < 0.96:                                        # RST
            k.tcp(src, dst, "RA", nxt[d], acked, win=0, dt=dt)
        else:                                                    # a stray SYN (reuse/rexmit)
            isn = nxt[d] if rng.random() < 0.5 else rng.randrange(1 << 32)
            k.tcp(src, dst, "S", isn, 0, dt=dt)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 10])
def test_random_conversations_match_tshark(tmp_path, seed):
    rng = random.Random(seed)
    k = Crafter()
    for i in range(40):
        random_conversation(k, rng, 30000 + i)
    path = k.write(tmp_path / f"random{seed}.pcap")
    rows = tshark_rows(path)
    assert stream_mismatches(path, rows) == []
    problems = flag_mismatches(path, rows)
    assert problems == [], f"{len(problems)} mismatches, first: {problems[:10]}"
    # the traffic really exercises the analysis
    seen = set().union(*(r["flags"] for r in rows))
    assert {"retransmission", "lost_segment", "duplicate_ack", "keep_alive",
            "zero_window", "window_update", "ack_lost_segment", "out_of_order"} <= seen
