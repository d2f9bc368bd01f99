"""Crafted captures of request/reply conversations whose two directions are framed
differently (tests/engine/framing/gen.py families), written as real pcaps."""
from __future__ import annotations

from tests.engine.framing.gen import conversation
from tests.engine.framing.wire import TcpConv, write_pcap


def request_reply(port: int, c2s: str, s2c: str, seed: int, count: int = 12,
                  cport: int = 40000, t0: float = 1.7e9):
    """(TcpConv, c2s messages, s2c messages): requests of family `c2s` and replies of family
    `s2c`, taking turns segment by segment, coalesced and split at random."""
    reqs, req_segs = conversation(c2s, seed, count=count, mode="mixed")
    reps, rep_segs = conversation(s2c, seed + 1, count=count, mode="mixed")
    conv = TcpConv(cport=cport, sport=port, t0=t0).open()
    for i in range(max(len(req_segs), len(rep_segs))):
        conv.send(0, req_segs[i:i + 1]).send(1, rep_segs[i:i + 1])
    return conv.close(), reqs, reps


def write(path: str, convs: list[TcpConv]) -> str:
    write_pcap(path, convs)
    return path


def lengths(msgs: list[bytes]) -> list[int]:
    return [len(m) for m in msgs]
