"""A conversation of the summary JSON as text, with its number lists: its "messages" (from its
message arrays) and its frame numbers (analyzer/render/json_lists.py, and the C versions the
compiled summary_json twin cimports, analyzer/render/c_json_lists.pxd): both must give
json.dumps' text, for random arrays with split, empty and malformed messages, negative and
64-bit numbers, and for strings and values of every kind in the conversation's other keys."""
from __future__ import annotations

import json
import math
import random
import struct
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


def _float_cases(rng: random.Random) -> list[float]:
    """Times with 6 decimals or fewer around and beyond the C writer's range (below 1e-4,
    2**31, 2**33), RTTs rounded to 3 decimals, differences of times, times with nanoseconds,
    powers of 2 and 10 and their neighbours, and doubles of any bits."""
    out = []
    for _ in range(3000):
        out += [rng.randrange(2 ** 31) + rng.randrange(10 ** 6) / 1e6,
                rng.randrange(2 ** 33 - 3, 2 ** 33 + 3) + rng.randrange(10 ** 6) / 1e6,
                round(rng.random() * 10 ** rng.randint(-6, 9), rng.randint(0, 7)),
                abs(rng.randrange(2 ** 33) / 1e6 - rng.randrange(2 ** 33) / 1e6),
                rng.randrange(2 ** 31) + rng.randrange(10 ** 9) / 1e9,
                math.ldexp(1.0, rng.randint(-30, 40)) * (1 + rng.choice([-1, 0, 1]) * 2 ** -52),
                10.0 ** rng.randint(-6, 12) * (1 + rng.choice([-1, 0, 1]) * 2 ** -52),
                struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]]
    return [x for x in out if math.isfinite(x)] + [1e-4, 0.0001 - 2 ** -66, 0.0, -0.0, 0.5,
                                                     8589934592.0, 8589934591.999999, 2.0 ** 31]


def test_floats_written_as_repr_writes_them(monkeypatch):
    """A float of a conversation (here its start time) as repr writes it, compiled or not;
    checked to fail with the last decimal of a microsecond time dropped."""
    modules = [summary_json]
    if hasattr(summary_json, "__compiled__"):
        modules.append(load_pure(summary_json, monkeypatch))
    for x in _float_cases(random.Random(21)):
        for module in modules:
            text = module._conv_text(
                0, "tcp", "a", "b", "S0", "S", (False, (), None), (None, None, ()), None, 1, 1,
                x, 0.0, 1, 0, 0, 0, None, {}, (), "{}", [], [], "")
            assert f'"start_time":{x!r},"end_time"' in text, x


STRINGS = ["tcp", "", "SF", 'quote " back \\ slash', "ctl \x00\x1f\x7f", "caf\u00e9",
           "\u4e2d\U0001f600", "10.0.0.1:5", "[fe80::1]:443", "x" * 3000]
VALUES = [None, True, False, 0, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 64, -2 ** 70, 0.0, -0.0, 0.017,
          1700000000.000007, 1e300, 5e-324, float("nan"), float("inf"), float("-inf"), "port",
          'a "b"', "\u00e9"]
FRAMES = [(), (1,), (1, 2, 3), [2 ** 64, 1], (True,), (None, 1)]


def _random_conv(rng: random.Random):
    """conv_text's arguments with the strings and values the conversation keys may hold."""
    s, v = (lambda: rng.choice(STRINGS)), (lambda: rng.choice(VALUES))
    n, m_dir, m_off, m_len, m_pk, pk, bad = (_random_arrays(rng) if rng.random() < 0.5 else
                                              (0, None, None, None, None, None, {}))
    gaps = [(rng.choice(DIRS), rng.choice([0, 5, 2 ** 40]), rng.choice([1, 2 ** 33]))
            for _ in range(rng.choice([0, 0, 1, 3]))]
    return (rng.choice([0, 7, 2 ** 63 - 1, 2 ** 70]), s(), s(), s(), s(), s(),
            (v(), rng.choice(FRAMES), v()), (v(), v(), rng.choice(FRAMES)), v(), v(), v(), v(),
            v(), rng.choice([0, 9, 2 ** 64]), rng.choice([0, 10]), rng.choice([0, 2 ** 63]), n,
            (m_dir, m_off, m_len, m_pk, pk), bad, rng.choice(FRAMES),
            rng.choice(['{}', '{"tcp.analysis.retransmission":2}']),
            [s() for _ in range(rng.choice([0, 0, 1, 2]))], gaps,
            rng.choice(["", ',"protocol_choice":{"by":"port"}']))


def _json_value(v):
    return json.dumps(v, separators=(",", ":"))


def test_pure_conv_text_is_json_dumps_text():
    """The pure conversation text: json.dumps' text of each key's value."""
    rng = random.Random(14)
    for _ in range(300):
        args = _random_conv(rng)
        text = json_lists.conv_text(*args)
        (cid, transport, client, server, state, history, hs, td, protocol, first, last, start,
         end, packets, b1, b2) = args[:16]
        assert text.startswith(f'{{"id":{cid},"transport":{_json_value(transport)},'
                               f'"client":{_json_value(client)},')
        assert f'"rtt_ms":{_json_value(hs[2])}}}' in text
        assert f'"start_time":{_json_value(start)},"end_time":{_json_value(end)},' in text
        assert f'"initiator":{_json_value(td[1])},' in text
        assert f'"malformed":{_json_value(args[21])},' in text
        values = (*hs[::2], *td[:2], protocol, first, last, start, end)
        if (all(v == v and abs(v) != float("inf") for v in values if type(v) is float)
                and all(type(x) is int for f in (hs[1], td[2], args[19]) for x in f)):
            got = json.loads(text)
            assert got["history"] == history and got["protocol"] == protocol
            assert [g["length"] for g in got["gaps"]] == [g[2] for g in args[22]]


def test_compiled_conv_text_is_the_pure_text(monkeypatch):
    """The C conversation text = the pure one, byte for byte, on every kind of value."""
    pure = load_pure(summary_json, monkeypatch)
    rng = random.Random(15)
    for _ in range(1500):
        args = _random_conv(rng)
        assert summary_json._conv_text(*args) == pure._conv_text(*args), args[:16]


@pytest.mark.parametrize("which", [1, 4])
def test_conv_text_refuses_what_json_dumps_would_not_write(monkeypatch, which):
    """A string key that is not a str: TypeError from both versions (never a crash)."""
    args = list(_random_conv(random.Random(16)))
    for bad in (None, 3, b"tcp"):
        args[which] = bad
        with pytest.raises(TypeError):
            json_lists.conv_text(*args)
        with pytest.raises(TypeError):
            summary_json._conv_text(*args)
