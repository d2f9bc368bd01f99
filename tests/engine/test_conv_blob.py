"""A finished TCP conversation's blob (analyzer/engine/conv_blob.py, and the C writer the
compiled retired twin cimports, analyzer/engine/c_conv_blob.pxd): the C writer gives the very
bytes marshal.dumps(the flat tuple, 2) gives, on the conversations of real captures and with
values of every kind put into their fields (ints of every size, floats, texts needing more
than ASCII, None, nested tuples, a type only marshal writes)."""
from __future__ import annotations

import marshal
import random

import pytest

from analyzer.engine import retired
from analyzer.engine.conv_blob import CONV, FLOW, HANDSHAKE, REASM
from analyzer.engine.conv_state import ConvState
from tests.engine.test_packed_conversations import analyzed, capture
from tests.pure_module import load_pure


def _states(tmp_path, seed: int) -> list:
    eng = analyzed(capture(tmp_path, seed), False)      # every conversation kept whole
    return [e for e in eng.states.entries if type(e) is ConvState and e.transport == "tcp"]


@pytest.mark.parametrize("seed", [1, 2])
def test_c_blob_is_marshal_of_the_tuple(tmp_path, monkeypatch, seed):
    pure = load_pure(retired, monkeypatch)
    states = _states(tmp_path, seed)
    assert len(states) > 20
    for cs in states:
        blob = retired._conv_blob(cs)
        assert blob == pure._conv_blob(cs)
        items = marshal.loads(blob)
        assert items[FLOW] == cs.flow.first_packet and items[CONV] == cs.m_dir.tobytes()
        assert items[REASM[1] + 1] == cs.reasm[1].next_off


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_c_blob_writes_values_of_every_kind(tmp_path, monkeypatch, seed):
    pure = load_pure(retired, monkeypatch)
    rng = random.Random(seed)
    values = [None, True, False, 0, -1, 7, 2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1,
              2 ** 32, 2 ** 45 + 12345, -2 ** 45, 2 ** 63 - 1, -2 ** 63, 2 ** 64, -2 ** 70 - 3,
              10 ** 40, 0.0, -0.0, 1.5, 1e300, float("inf"), float("nan"), "", "port",
              "quote \" and \\", "\u00e9\u4e2d\U0001f600", "\ud800 lone surrogate", b"raw bytes",
              (1, (2, "x"), ()), frozenset({3}), 3 + 4j]
    for cs in _states(tmp_path, seed)[:12]:
        f = cs.flow
        f.first_packet, f.packets = rng.choice([0, 1, 2 ** 31, 2 ** 62, -2 ** 63]), 2 ** 40
        f.start_time, f.end_time = rng.choice([0.0, 1e9 + 0.123456, -1.25]), float("inf")
        f.analysis_counts = {**f.analysis_counts, "odd": rng.choice(values)}
        f._syn, f._synack, f._hs_ack = (rng.choice([None, 1, 2 ** 40]) for _ in range(3))
        cs.own = {rng.choice(values[:30]): rng.choice(values) for _ in range(rng.randint(0, 5))}
        cs.m_bad = {i: rng.choice(values) for i in range(rng.randint(0, 4))}
        cs.last_pkt = [rng.choice(values), rng.choice(values)]
        cs.version = rng.choice([0, 2 ** 33, -5])
        for r in cs.reasm:
            r.base = rng.choice(values)
            r.next_off = rng.choice([0, 2 ** 50, -2 ** 63])
            r.gaps = [rng.choice(values) for _ in range(rng.randint(0, 4))]
        blob = retired._conv_blob(cs)
        assert blob == pure._conv_blob(cs)
        assert marshal.loads(blob)[HANDSHAKE:HANDSHAKE + 3] == f.handshake_facts()


def test_c_blob_handshake_rtt_rounded_as_round_does(tmp_path, monkeypatch):
    """The handshake's RTT (round(ms, 3)) worked out in C: the same double as round() for
    times of every size, halves at the third decimal, negative and non-finite differences
    and times that are not floats."""
    pure = load_pure(retired, monkeypatch)
    rng = random.Random(8)
    cs = _states(tmp_path, 1)[0]
    f = cs.flow
    f._syn, f._synack, f._hs_ack = 1, 2, 3
    pairs = [(1e9 + 0.0000125, 1e9), (0.0025, 0.0), (0.0005, 0.0), (-0.0005, 0.0), (2.5e-7, 0.0),
             (float("inf"), 0.0), (float("nan"), 1.0), (5, 2), (2 ** 60, 1.5), (1e300, -1e300)]
    for _ in range(3000):
        t = rng.randrange(2 ** 31) + rng.randrange(10 ** 6) / 1e6
        step = rng.choice([rng.random(), rng.randrange(10 ** 4) / 1e7, 1e-3 * rng.random()])
        pairs.append((t + step, t))
        pairs.append((rng.uniform(-1e6, 1e6), rng.uniform(-1e6, 1e6)))
    for hs_ack_ts, syn_ts in pairs:
        f._hs_ack_ts, f._syn_ts = hs_ack_ts, syn_ts
        assert retired._conv_blob(cs) == pure._conv_blob(cs), (hs_ack_ts, syn_ts)


def test_c_head_is_marshal_of_the_head_tuple(tmp_path, monkeypatch):
    """The stand-in's head: the same bytes from C as from marshal, on real flows and with IPv6
    and non-ASCII texts, 64-bit SYN sequence numbers and odd presets."""
    pure = load_pure(retired, monkeypatch)
    rng = random.Random(9)
    for cs in _states(tmp_path, 2):
        f = cs.flow
        assert retired._head_blob(f, 0) == pure._head_blob(f, 0)
        assert marshal.loads(retired._head_blob(f, 5))[:4] == (*f.client, *f.server)
        f.client = (rng.choice(["::1", "10.0.0.1", "h\u00f4te"]), rng.choice([0, 65535, 2 ** 40]))
        f.server = (rng.choice(["fe80::1%eth0", "\ud800"]), rng.choice([1, -1]))
        for d in f._tcp.dirs:
            d.base_seq, d.base_seq_set = rng.choice([0, 2 ** 32 - 1, 2 ** 62]), rng.random() < 0.5
        for preset in (0, 2 ** 20, 2 ** 63 - 1, None):
            assert retired._head_blob(f, preset) == pure._head_blob(f, preset)


def test_c_blob_checked_against_a_wrong_writer(tmp_path, monkeypatch):
    """The comparison above can fail: a blob with one 64-bit int changed differs."""
    cs = _states(tmp_path, 1)[0]
    good = retired._conv_blob(cs)
    cs.flow.packets += 2 ** 40
    assert retired._conv_blob(cs) != good
    assert marshal.loads(retired._conv_blob(cs))[2] == cs.flow.packets
