"""Framing inference on generated conversations of every family (random sizes, coalescing,
splitting), crafted as real TCP frames and fed to a real Engine; the message boundaries must
be exact.  Adversarial: too short, random bytes, two framings fit, bytes over at the end."""
from __future__ import annotations

import os
import random
from itertools import accumulate

import pytest

from analyzer.engine.framing import THRESHOLD, Sample, infer_direction
from analyzer.render.summary_json import summary_json
from tests.engine.framing.gen import EXPECTED, FAMILIES, conversation
from tests.engine.framing.wire import TcpConv, engine_of


def _lengths(conv: dict, direction: str) -> list[int]:
    return [m["length"] for m in conv["messages"] if m["direction"] == direction]


def run_families(seeds: range) -> tuple[int, int, int, list]:
    """(conversations, exact, wrong above threshold, misses) through the engine: each
    conversation has a family in each direction."""
    total = exact = wrong = 0
    misses = []
    convs, truth = [], []
    for k, seed in enumerate(seeds):
        fam = FAMILIES[k % len(FAMILIES)]
        reply = FAMILIES[(k * 5 + 3) % len(FAMILIES)]
        msgs, segs = conversation(fam, seed)
        rmsgs, rsegs = conversation(reply, seed + 10_000)
        c = TcpConv(cport=20000 + k, sport=7100 + k % 50, t0=1.7e9 + k).open()
        rng = random.Random(seed)
        c.send(0, segs[:2]).send(1, rsegs[:1])          # interleave the directions a little
        rest, rrest = segs[2:], rsegs[1:]
        while rest or rrest:
            n = rng.randrange(1, 4)
            c.send(0, rest[:n]).send(1, rrest[:n])
            rest, rrest = rest[n:], rrest[n:]
        convs.append(c.close())
        truth.append(((fam, msgs), (reply, rmsgs)))
    eng = engine_of(convs)
    out = summary_json(eng)["conversations"]
    for conv, pair in zip(out, truth):
        for d, (fam, msgs) in zip(("c2s", "s2c"), pair):
            total += 1
            f = (conv.get("framing") or {}).get(d) or {}
            if _lengths(conv, d) == [len(m) for m in msgs]:
                exact += 1
            else:
                misses.append((conv["id"], d, fam, f.get("framing"), f.get("text")))
                if f.get("framing") and f["confidence"] >= THRESHOLD:
                    wrong += 1
    return total, exact, wrong, misses


def test_families_exact_boundaries():
    total, exact, wrong, misses = run_families(range(140))
    assert total >= 200                    # 140 conversations, two directions each
    assert exact / total >= 0.95, misses
    assert wrong == 0, misses


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("mode", ["each", "coalesce", "split"])
def test_each_family_and_segmentation(family, mode):
    msgs, segs = conversation(family, 3, count=12, mode=mode)
    data = b"".join(segs)
    r = infer_direction(Sample(data, list(accumulate(map(len, segs))), len(data), True))
    if family == "fixed" and mode == "coalesce":
        return                   # glued records need their pushes: may be too ambiguous
    assert r.framing is not None, r.reason
    from analyzer.engine.framing.scoring import cut
    assert cut(r.framing, data, 1 << 24).ends == list(accumulate(map(len, msgs))), r.text()


def test_too_short_says_so():
    r = infer_direction(Sample(b"\x00\x03abc", [5], 5, True))
    assert r.framing is None and "too short" in r.reason


def test_random_bytes_are_unframed():
    rng = random.Random(5)
    segs = [os.urandom(rng.randrange(200, 1400)) for _ in range(12)]
    data = b"".join(segs)
    r = infer_direction(Sample(data, list(accumulate(map(len, segs))), len(data), True))
    assert r.framing is None or r.confidence < THRESHOLD
    assert r.framing is None and ("encrypted" in r.reason or "no framing" in r.reason), r


def test_two_framings_fit_the_simpler_wins():
    lines = [b"abcdefg\n"] * 8             # delimited, and also fixed 8-byte records
    data = b"".join(lines)
    r = infer_direction(Sample(data, list(accumulate(map(len, lines))), len(data), True))
    assert r.framing.grammar() == "delim:\\n"
    assert r.alternative is not None and r.alternative.grammar() == "fixed:8"
    assert r.same_boundaries


def test_bytes_left_over_at_the_end_is_wrong():
    msgs = [b"\x00\x00\x00\x03abc"] * 5
    data = b"".join(msgs) + b"\x00\x00"
    pushes = list(accumulate(map(len, msgs))) + [len(data)]
    closed = infer_direction(Sample(data, pushes, len(data), True))
    assert closed.framing is None or closed.framing.grammar() != "len:4:be"
    still_open = infer_direction(Sample(data, pushes, len(data), False))
    assert still_open.framing.grammar() == "len:4:be"


def test_summary_shows_inferred_framing_and_choice():
    msgs, segs = conversation("type2_len4le", 11, count=10)
    c = TcpConv(sport=7005).open().send(0, segs).close()
    conv = summary_json(engine_of([c]))["conversations"][0]
    assert conv["protocol"] == "inferred"
    f = conv["framing"]["c2s"]
    assert f["text"] == "4-byte little-endian length at offset 2, counts payload only"
    assert f["framing"] == "len:4:le:offset=2" and f["confidence"] >= THRESHOLD
    assert conv["framing"]["threshold"] == THRESHOLD
    assert conv["protocol_choice"]["by"] == "inference"
    assert _lengths(conv, "c2s") == [len(m) for m in msgs]


def test_decode_as_infer_and_stated_framing():
    msgs, segs = conversation("len2be", 2, count=8, mode="split")
    c = TcpConv(sport=9000).open().send(0, segs).close()      # the chat port: forced
    inferred = summary_json(engine_of([c], {9000: "infer"}))["conversations"][0]
    assert inferred["protocol"] == "inferred"
    assert _lengths(inferred, "c2s") == [len(m) for m in msgs]
    assert inferred["split_messages"] > 0
    stated = summary_json(engine_of([c], {9000: "framed:len:2:be"}))["conversations"][0]
    assert stated["protocol"] == "framed"
    assert _lengths(stated, "c2s") == [len(m) for m in msgs]
