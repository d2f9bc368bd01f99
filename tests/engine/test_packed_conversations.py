"""Closed TCP conversations packed small (analyzer.engine.retired): every view gives the same
answer as with full state kept, also when packets of a packed conversation come later
(late ACKs, retransmitted FINs, data after close, stray SYNs, reused ports)."""
from __future__ import annotations

import io
import json
import random

import pytest

from analyzer.engine.loader import new_engine_for
from analyzer.engine.retired import PackedConv
from analyzer.render.packet_json import packet_json
from analyzer.render.rows import row
from analyzer.render.summary_json import summary_json, write_summary_json
from analyzer.sources.open import open_capture
from tests.test_compiled_equivalence import lenmsg_shuffled
from tests.transport.helpers import Crafter
from tests.transport.scenarios import ALL as SCENARIOS
from tests.transport.test_random_vs_tshark import random_conversation


def analyzed(path: str, pack_closed: bool):
    eng = new_engine_for(path, open_capture(path), sidecar=None, pack_closed=pack_closed)
    for rec in open_capture(path):
        eng.feed(rec)
    eng.finish()
    return eng


def views(eng) -> str:
    """Everything a user sees: summary JSON, every packet's JSON and row, follow, reads."""
    out = [summary_json(eng)]
    for n in range(1, eng.packet_count + 1):
        out.append(packet_json(eng, n))
        out.append(tuple(row(eng, n)))
    for conv in eng.conversations:
        out.append([tuple(c) for c in eng.follow(conv)])
        out.append(eng.naive_reads(conv, "c2s", 7))
    return json.dumps(out, default=repr, sort_keys=True)


def closing(k: Crafter, rng: random.Random, cport: int, late: float | None = None) -> None:
    """A lenmsg exchange closed by FINs, then maybe more packets on the same 4-tuple."""
    c, s = ("127.0.0.1", cport), ("127.0.0.1", 9001)
    ci, si = rng.randrange(1 << 32), rng.randrange(1 << 32)
    k.tcp(c, s, "S", ci, 0)
    k.tcp(s, c, "SA", si, ci + 1)
    k.tcp(c, s, "A", ci + 1, si + 1)
    req = b"".join(bytes([0, 0, 0, n]) + b"q" * n for n in (3, 5))
    k.tcp(c, s, "PA", ci + 1, si + 1, req)
    k.tcp(s, c, "PA", si + 1, ci + 1 + len(req), bytes([0, 0, 0, 2]) + b"ok")
    cn, sn = ci + 1 + len(req), si + 7
    k.tcp(c, s, "FA", cn, sn)
    k.tcp(s, c, "FA", sn, cn + 1)
    k.tcp(c, s, "A", cn + 1, sn + 1)
    late = rng.random() if late is None else late
    if late < 0.2:
        k.tcp(s, c, "FA", sn, cn + 1)                         # the FIN sent again
        k.tcp(c, s, "A", cn + 1, sn + 1)
    elif late < 0.35:
        k.tcp(c, s, "PA", cn + 1, sn + 1, bytes([0, 0, 0, 1]) + b"z")   # data after close
    elif late < 0.5:
        k.tcp(c, s, "S", ci, 0)                               # the old SYN again
    elif late < 0.7:
        closing_again = rng.randrange(1 << 32)                # the port reused (new ISN)
        k.tcp(c, s, "S", closing_again, 0)
        k.tcp(s, c, "RA", 0, closing_again + 1)
    elif late < 0.8:
        k.tcp(c, s, "RA", cn + 1, sn + 1)                     # a RST after the close


def capture(tmp_path, seed: int) -> str:
    rng = random.Random(seed)
    k = Crafter()
    for i in range(25):
        closing(k, rng, 32000 + i % 7)                        # ports come back
    for i in range(8):
        random_conversation(k, rng, 30000 + i % 3)
        lenmsg_shuffled(k, rng, 31000 + i % 2)
    for build in SCENARIOS.values():
        build(k)
    return k.write(tmp_path / f"packed-{seed}.pcap")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_packed_same_views_as_full_state(tmp_path, seed):
    path = capture(tmp_path, seed)
    packed, full = analyzed(path, True), analyzed(path, False)
    assert sum(type(e) is PackedConv for e in packed.states.entries) > 10
    assert packed.reopened > 0                  # later packets brought some back
    assert views(packed) == views(full)


def test_packed_conversation_unpacks_whole(tmp_path):
    k = Crafter()
    closing(k, random.Random(0), 40000, late=1.0)            # nothing after the close
    path = k.write(tmp_path / "one.pcap")
    eng = analyzed(path, True)
    (entry,) = eng.states.entries
    assert type(entry) is PackedConv and len(entry.blob) < 600
    assert eng.reopened == 0
    conv = eng.conversations[0]
    assert [m.length for m in conv.messages] == [7, 9, 6]
    assert conv.state == "SF" and conv.teardown["kind"] == "fin-ack-piggybacked"
    assert eng.relative_seq(8) == (18, 8)
    assert [m.packets for m in conv.messages] == [[4], [4], [5]]


@pytest.mark.parametrize("seed", [4, 5])
def test_summary_text_of_packed_conversations(tmp_path, seed):
    """The summary JSON text writes packed conversations from their blob: the same bytes as
    with full state kept, and as json.dumps of the summary's dict."""
    path = capture(tmp_path, seed)
    packed, full = analyzed(path, True), analyzed(path, False)
    texts = []
    for eng in (packed, full):
        buf = io.StringIO()
        write_summary_json(eng, buf)
        texts.append(buf.getvalue())
    assert texts[0] == texts[1]
    assert texts[1] == json.dumps(summary_json(full), separators=(",", ":")) + "\n"
    assert '"malformed":"' in texts[0] and '"gaps":[{' in texts[0]
