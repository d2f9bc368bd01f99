"""The number lists of the summary JSON, a conversation's "messages" (from its message arrays)
and its frame numbers (analyzer/render/json_lists.py, and the C versions the compiled
summary_json twin cimports, analyzer/render/c_json_lists.pxd): both must give json.dumps' text
of the same list, for random arrays with split, empty and malformed messages, negative and
64-bit numbers."""
from __future__ import annotations

import json
import random
from array import array

import pytest

from analyzer.render import json_lists, summary_json
from tests.pure_module import load_pure

DIRS = ("c2s", "s2c")


def _random_arrays(rng: random.Random):
    n = rng.choice([1, 2, 3, 10, rng.randint(1, 200)])
    m_dir, m_off, m_len, m_pk, pk = array("b"), array("q"), array("q"), array("I"), array("I")
    bad = {}
    for i in range(n):
        m_dir.append(rng.randint(0, 1))
        m_off.append(rng.choice([0, 7, rng.randint(-2 ** 63, 2 ** 63 - 1), 2 ** 63 - 1, -2 ** 63]))
        m_len.append(rng.choice([0, 1, rng.randint(0, 2 ** 40), -1]))
        m_pk.append(len(pk))
        for _ in range(rng.choice([0, 1, 1, 1, 2, rng.randint(0, 30)])):
            pk.append(rng.choice([1, rng.randint(0, 2 ** 32 - 1), 2 ** 32 - 1]))
        if rng.random() < 0.1:
            bad[i] = rng.choice(['stream ended inside a message', 'quote " back \\ slash',
                                 'not ascii: \u00e9\u4e2d\U0001f600', '', '\x00\n\t'])
    return n, m_dir, m_off, m_len, m_pk, pk, bad


def _expected(n, m_dir, m_off, m_len, m_pk, pk, bad):
    out, split = [], 0
    for i in range(n):
        a, b = m_pk[i], (m_pk[i + 1] if i + 1 < n else len(pk))
        split += b - a > 1
        m = {"index": i, "direction": DIRS[m_dir[i]], "offset": m_off[i], "length": m_len[i],
             "packets": list(pk[a:b])}
        if i in bad:
            m["malformed"] = bad[i]
        out.append(m)
    return json.dumps(out, separators=(",", ":"))[1:-1], split


def test_pure_messages_text_is_json_dumps_text():
    rng = random.Random(11)
    for _ in range(400):
        arrays = _random_arrays(rng)
        assert json_lists.messages_text(*arrays) == _expected(*arrays)


def _conv_text(module, arrays):
    n, m_dir, m_off, m_len, m_pk, pk, bad = arrays
    return module._conv_text(
        3, "tcp", "10.0.0.1:5", "10.0.0.2:6", "SF", "ShAF", (True, [1, 2, 3], 0.5),
        ("fin", "client", [7, 8, 9]), "lenmsg", 1, 9, 1.5, 2.5, 9, 10, 20, n,
        (m_dir, m_off, m_len, m_pk, pk), bad, [], "{}", [], [], "")


def test_compiled_summary_writes_the_same_messages(monkeypatch):
    pure = load_pure(summary_json, monkeypatch)
    rng = random.Random(12)
    for _ in range(400):
        arrays = _random_arrays(rng)
        text = _conv_text(summary_json, arrays)
        assert text == _conv_text(pure, arrays)
        got = json.loads(text)
        assert json.dumps(got["messages"], separators=(",", ":"))[1:-1] == _expected(*arrays)[0]
    # memoryviews of the packed blob's bytes, as summary_facts gives them
    n, m_dir, m_off, m_len, m_pk, pk, bad = _random_arrays(rng)
    views = tuple(memoryview(a.tobytes()).cast(a.typecode) for a in (m_dir, m_off, m_len, m_pk, pk))
    assert _conv_text(summary_json, (n, *views, bad)) == _conv_text(pure, (n, *views, bad))


def test_message_arrays_out_of_step_raise(monkeypatch):
    """A message whose packets would run past the packet array: an error, not a read past it."""
    if not hasattr(summary_json, "__compiled__"):
        pytest.skip("summary_json runs pure in this build")
    arrays = (2, array("b", [0, 1]), array("q", [0, 4]), array("q", [4, 4]), array("I", [0, 5]),
              array("I", [1, 2]), {})
    with pytest.raises(IndexError):
        _conv_text(summary_json, arrays)


def test_ints_text_is_json_dumps_text(monkeypatch):
    """Frame number lists (tuples, lists, arrays) as json.dumps writes them, compiled or not;
    anything else than ints written as the pure version writes it."""
    rng = random.Random(13)
    cases = [(), (1,), [0, 2 ** 63 - 1, -2 ** 63], array("I", [4, 5, 2 ** 32 - 1]),
             [2 ** 64, -2 ** 70, 3], tuple(range(40)), [True, 2], (None, 1)]
    cases += [[rng.randint(-2 ** 63, 2 ** 63 - 1) for _ in range(rng.randint(0, 60))]
              for _ in range(200)]
    modules = [summary_json]
    if hasattr(summary_json, "__compiled__"):
        modules.append(load_pure(summary_json, monkeypatch))
    for values in cases:
        expected = json_lists.ints_text(values)
        if all(type(v) is int for v in values):
            assert expected == json.dumps(list(values), separators=(",", ":"))[1:-1]
        for module in modules:
            text = module._conv_text(
                0, "tcp", "a", "b", "S0", "S", (False, values, None), (None, None, values),
                None, 1, 1, 0.0, 0.0, 1, 0, 0, 0, None, {}, values, "{}", [], [], "")
            assert f'"frames":[{expected}],"rtt_ms"' in text, values
            assert f'"frames":[{expected}]}},"protocol"' in text, values
            assert f'"coalesced_packets":[{expected}],"split' in text, values
