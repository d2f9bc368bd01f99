"""A packed conversation of the summary JSON written straight from its blob (packed_text:
analyzer/render/packed_text.py, and the C reader the compiled summary_json twin cimports,
analyzer/render/c_packed_text.pxd): the same text as the general way (retired.summary_facts
and conv_text) and as the pure path, for conversations with and without findings, also when
the blob or head is damaged (the same text or an error from both, never a crash)."""
from __future__ import annotations

import random

from analyzer.engine.retired import PackedConv, summary_facts
from analyzer.render import packed_text as packed_module
from analyzer.render import summary_json
from tests.engine.test_packed_conversations import analyzed, capture
from tests.transport.helpers import Crafter


def general_text(eng, p: PackedConv) -> str:
    """The text from summary_facts and summary_json's conv_text (what packed_json_text falls
    back to; compiled or not as summary_json is)."""
    (client, server, state, history, hs, td, first, last, start, end, packets, b1, b2, analysis,
     arrays, bad, coalesced, gaps) = summary_facts(p)
    from analyzer.engine.conv_state import malformed_texts
    return summary_json._conv_text(p.id, "tcp", client, server, state, history, hs, td,
                                   p.protocol, first,
                                   last, start, end, packets, b1, b2, len(arrays[0]), arrays,
                                   bad, coalesced, summary_json._packed_analysis_text(analysis),
                                   malformed_texts(bad, arrays[0], arrays[1]) if bad else (),
                                   gaps, summary_json._choice_text(eng, "tcp", p.id))


def packed_of(tmp_path, seed: int):
    eng = analyzed(capture(tmp_path, seed), True)
    return eng, [e for e in eng.states.entries if type(e) is PackedConv]


def split_and_sticky(tmp_path, v6: bool) -> str:
    """Closed lenmsg conversations whose messages are split over segments and stuck together,
    with sequence numbers and ports of every size, over IPv4 or IPv6."""
    rng = random.Random(10 + v6)
    k = Crafter(v6=v6)
    host = ("::1", "::1") if v6 else ("127.0.0.1", "127.0.0.1")
    for i in range(12):
        c, s = (host[0], (1, 80, 65535)[i] if i < 3 else 40000 + i), (host[1], 9001)
        ci, si = rng.choice([0, 1, 2 ** 31, 2 ** 32 - 5, rng.randrange(2 ** 32)]), rng.randrange(2 ** 32)
        k.tcp(c, s, "S", ci, 0)
        k.tcp(s, c, "SA", si, ci + 1)
        k.tcp(c, s, "A", ci + 1, si + 1)
        data = b"".join(bytes([0, 0, 0, n]) + bytes(n) for n in (rng.randrange(1, 200)
                                                                for _ in range(rng.randrange(1, 6))))
        cuts = sorted(rng.sample(range(1, len(data)), min(3, len(data) - 1)))
        sent = 0
        for cut in cuts + [len(data)]:
            k.tcp(c, s, "PA", ci + 1 + sent, si + 1, data[sent:cut])
            sent = cut
        reply = bytes([0, 0, 0, 2]) + b"ok" + bytes([0, 0, 0, 1]) + b"!"
        k.tcp(s, c, "PA", si + 1, ci + 1 + sent, reply)
        cn, sn = ci + 1 + sent, si + 1 + len(reply)
        k.tcp(c, s, "FA", cn, sn)
        k.tcp(s, c, "FA", sn, cn + 1)
        k.tcp(c, s, "A", cn + 1, sn + 1)
    return k.write(tmp_path / f"split-{v6}.pcap")


def test_split_and_sticky_messages_of_packed_conversations(tmp_path):
    """Split and coalesced messages, big sequence numbers, IPv6 endpoints: the text from the
    blob is the general text (and the same as with full state kept)."""
    for v6 in (False, True):
        path = split_and_sticky(tmp_path, v6)
        eng, full = analyzed(path, True), analyzed(path, False)
        packed = [e for e in eng.states.entries if type(e) is PackedConv]
        assert len(packed) == 12
        for p, cs in zip(packed, full.states.entries):
            text = summary_json.packed_json_text(eng, p)
            assert text == general_text(eng, p) == summary_json.conversation_json_text(full, cs)
        assert '"split_messages":0' not in text and ("[::1]" in text) == v6


def test_packed_text_is_the_general_text(tmp_path):
    eng, packed = packed_of(tmp_path, 7)
    texts = {}
    for p in packed:
        texts[packed_module.analysis_key(*summary_facts(p)[13])] = (
            summary_json._packed_analysis_text(summary_facts(p)[13]))
    fast = 0
    for p in packed:
        expected = general_text(eng, p)
        got = packed_module.packed_text(p.id, p.protocol, p.head, p.blob, texts,
                                        summary_json._choice_text(eng, "tcp", p.id))
        assert got is None or got == expected
        fast += got is not None
        assert summary_json.packed_json_text(eng, p) == expected
    assert fast > len(packed) // 2 and fast < len(packed)    # findings take the general way
    assert packed_module.packed_text(packed[0].id, packed[0].protocol, packed[0].head,
                                     packed[0].blob, {}, "") is None     # counts' text unknown


def tuple_counts(data: bytes) -> set[int]:
    """Where the item counts of the tuples lie in marshal's version 2 of a packed tuple."""
    out: set[int] = set()

    def item(k: int) -> int:
        code = data[k]
        if code in b"NTF":
            return k + 1
        if code in b"ig":
            return k + (5 if code == ord("i") else 9)
        n = int.from_bytes(data[k + 1:k + 5], "little", signed=True)
        if code == ord("l"):
            return k + 5 + 2 * abs(n)
        if code in b"su":
            return k + 5 + n
        assert code == ord("(")
        out.update(range(k + 1, k + 5))
        k += 5
        for _ in range(n):
            k = item(k)
        return k

    assert item(0) == len(data)
    return out


def outcome(write, eng, p: PackedConv):
    try:
        return write(eng, p)
    except Exception:                           # a damaged blob: an error, never a crash
        return "error"


def test_blob_reader_equals_the_general_way_on_damaged_blobs(tmp_path):
    """Blobs and heads cut short or with bytes changed: the same text as summary_facts and
    conv_text give, or an error from both (the compiled build's C reader, never past the
    blob's end)."""
    eng, packed = packed_of(tmp_path, 8)
    rng = random.Random(9)
    checked = texts = 0
    for p in packed[:10]:
        summary_json.packed_json_text(eng, p)           # its analysis text known
        cases = [(p.head, p.blob[:cut]) for cut in range(0, len(p.blob), 5)]
        cases += [(p.head[:cut], p.blob) for cut in range(len(p.head))]
        # (not the tuples' item counts: marshal would make a tuple of millions of items)
        blob_at = [k for k in range(len(p.blob)) if k not in tuple_counts(p.blob)]
        head_at = [k for k in range(len(p.head)) if k not in tuple_counts(p.head)]
        for _ in range(40):
            blob = bytearray(p.blob)
            for _ in range(rng.choice([1, 1, 2, 4])):
                blob[rng.choice(blob_at)] = rng.randrange(256)
            cases.append((p.head, bytes(blob)))
            head = bytearray(p.head)
            head[rng.choice(head_at)] = rng.randrange(256)
            cases.append((bytes(head), p.blob))
        for head, blob in cases:
            damaged = PackedConv(p.id, p.position, p.protocol, p.spec, p.options, head, blob)
            got = outcome(summary_json.packed_json_text, eng, damaged)
            assert got == outcome(general_text, eng, damaged)
            checked += 1
            texts += got != "error"
    assert checked > 1000 and texts > 200


def test_numbers_and_texts_of_every_size_read_from_the_blob(tmp_path):
    """Ints of every marshal encoding (32-bit, 15-bit digits up to 60 bits and beyond, negative),
    floats, None and texts put in a real blob's items: the text from the blob is the general
    text (the reader leaves what it does not take to the general way)."""
    import marshal
    eng, packed = packed_of(tmp_path, 11)
    p = packed[0]
    summary_json.packed_json_text(eng, p)                   # its analysis text known
    items = list(marshal.loads(p.blob))
    numbers = [0, -1, 2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1, 2 ** 45 + 3, -(2 ** 59),
               2 ** 60 - 1, -(2 ** 60) + 1]
    rare_numbers = [2 ** 60, -(2 ** 60) - 7, 2 ** 70]      # beyond the reader: general way
    floats = [0.0, -0.0, 1e-300, 1700000000.000001, 2.5e300]
    rare_floats = [float("nan"), float("inf")]
    texts = ["SF", "", "~" * 300, "ShAaDdFf"]
    rare_texts = ["caf\u00e9", 'q"uote', "back\\slash", "tab\t"]
    rng = random.Random(12)

    def pick(usual, rare):
        return rng.choice(rare if rng.random() < 0.05 else usual)

    for _ in range(400):
        v = list(items)
        for k in (0, 1, 2, 3, 4):                           # first, last, packets, bytes
            v[k] = pick(numbers, rare_numbers)
        v[5], v[6] = pick(floats, rare_floats), pick(floats, rare_floats)
        v[8], v[9], v[13], v[14] = (pick(texts, rare_texts) for _ in range(4))
        v[12] = pick(floats + [None], rare_floats)
        v[11] = tuple(pick(numbers, rare_numbers) for _ in range(rng.randrange(4)))
        head = list(marshal.loads(p.head))
        head[0] = pick(["10.0.0.1", "::1", "fe80::1%eth0"], ["caf\u00e9"])
        head[1] = pick([0, 65535, 2 ** 40], [2 ** 64])
        damaged = PackedConv(p.id, p.position, p.protocol, p.spec, p.options,
                             marshal.dumps(tuple(head), 2), marshal.dumps(tuple(v), 2))
        assert outcome(summary_json.packed_json_text, eng, damaged) == outcome(general_text, eng,
                                                                                damaged)
