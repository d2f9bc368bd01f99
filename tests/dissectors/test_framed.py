"""dissectors.framed: the framing grammar and the generic codec, on every framing family
(tests/engine/framing/gen.py), fed whole, byte by byte and in random pieces."""
from __future__ import annotations

import random

import pytest

from dissectors import framed, lenmsg, registry
from dissectors.base import LocalProtocolError, RemoteProtocolError, SERVER, CLIENT
from tests.engine.framing.gen import EXPECTED, FAMILIES, conversation


@pytest.mark.parametrize("text", sorted(set(EXPECTED.values())) + [
    "len:8:be:offset=1:header=12:includes-header", "delim:0x1e", "delim:crlf", "fixed:1"])
def test_grammar_round_trip(text):
    f = framed.Framing.parse(text)
    assert framed.Framing.parse(f.grammar()) == f
    assert f.text()


@pytest.mark.parametrize("text, words", [
    ("len:3:le", "SIZE 1, 2, 4 or 8"), ("len:4:middle", "ENDIAN"), ("len:4:le:offset=x", "offset"),
    ("len:4:le:header=2", "shorter"), ("fixed:0", "record size"), ("delim:", "delimiter"),
    ("delim:abc", "bad delimiter"), ("delim:0xzz", "hex"), ("zigzag:1", "unknown framing"),
    ("lenjson:4", "SIZE:ENDIAN")])
def test_bad_grammar(text, words):
    with pytest.raises(ValueError, match=words):
        framed.Framing.parse(text)


def test_words():
    assert framed.Framing.parse("len:4:le:offset=2").text() == \
        "4-byte little-endian length at offset 2, counts payload only"
    assert "whole message" in framed.Framing.parse("len:2:be:includes-header").text()


def _pieces(data: bytes, rng: random.Random):
    pos = 0
    while pos < len(data):
        n = rng.randrange(1, 40)
        yield data[pos:pos + n]
        pos += n


@pytest.mark.parametrize("family", FAMILIES)
def test_codec_cuts_exactly(family):
    msgs, _segs = conversation(family, 7)
    data = b"".join(msgs)
    want = [len(m) for m in msgs]
    opts = {"framing": EXPECTED[family]}
    whole = framed.Connection(SERVER, **opts)
    assert [len(e.data) for e in whole.receive_data(data)] == want
    assert whole.receive_data(b"") == []
    one = framed.Connection(SERVER, **opts)
    got = []
    for i in range(len(data)):
        got += one.receive_sizes(data[i:i + 1])
    assert got == want
    rnd = framed.Connection(SERVER, **opts)
    got = []
    for piece in _pieces(data, random.Random(1)):
        got += rnd.receive_sizes(piece)
    assert got == want


def test_per_direction_and_none():
    c = framed.Connection(CLIENT, c2s="delim:lf", s2c="fixed:2")
    assert c.receive_sizes(b"abcd") == [2, 2]
    quiet = framed.Connection(CLIENT, c2s="delim:lf")
    assert quiet.receive_sizes(b"abc\n") == []


def test_framing_object_and_the_message_begun():
    """A Framing is taken as it is; open_length tells the length of the message in progress
    once its header is read (None before, and for delimiters)."""
    f = framed.Framing.parse("len:2:le:offset=1")
    c = framed.Connection(SERVER, framing=f)
    assert c.framing is f
    assert c.open_length() is None
    assert c.receive_sizes(b"\x07\x05") == [] and c.open_length() is None
    assert c.receive_sizes(b"\x00ab") == [] and c.open_length() == 8
    assert c.receive_sizes(b"cde") == [8] and c.open_length() is None
    lines = framed.Connection(SERVER, framing="delim:lf")
    lines.receive_sizes(b"abc")
    assert lines.open_length() is None
    assert framed.parse_framing("fixed:4") is framed.parse_framing("fixed:4")


def test_errors():
    c = framed.Connection(SERVER, framing="len:4:be")
    c.receive_data(b"\x00\x00\x00\x05abc")
    with pytest.raises(RemoteProtocolError, match="inside a message"):
        c.receive_data(b"")
    big = framed.Connection(SERVER, framing="len:4:be")
    with pytest.raises(RemoteProtocolError, match="too large"):
        big.receive_data(b"\xff\xff\xff\xff")
    with pytest.raises(LocalProtocolError):
        framed.Connection(SERVER, framing="len:5:le")
    short = framed.Connection(SERVER, framing="len:2:be:includes-header")
    with pytest.raises(RemoteProtocolError, match="shorter"):
        short.receive_data(b"\x00\x01x")


def test_decode_as_grammar():
    assert registry.parse_decode_as("7005=len:4:le") == (7005, "framed", {"framing": "len:4:le"})
    assert registry.parse_decode_as("7005=infer") == (7005, "infer", {})
    assert registry.parse_decode_as("7005=delim:\\r\\n")[2] == {"framing": "delim:\\r\\n"}
    with pytest.raises(ValueError, match="SIZE"):
        registry.parse_decode_as("7005=len:3:le")
    assert registry.get("framed") is registry.FRAMED


def test_length_hints():
    c = lenmsg.Connection(SERVER, hint_port=7005)
    with pytest.raises(RemoteProtocolError, match=r"little-endian length 5\? try --decode-as "
                                                   r"7005=lenmsg:native"):
        c.receive_data(b"\x05\x00\x00\x00hello")
    n = lenmsg.Connection(SERVER, variant="native")
    with pytest.raises(RemoteProtocolError, match="'lane' look like text.*PORT=infer"):
        n.receive_data(b"\x02\x00\x00\x00hilane")


@pytest.mark.parametrize("text, options", [
    ("len:4:le", {"framing": "len:4:le"}),
    ("framed:len:4:le", {"framing": "len:4:le"}),
    ("FRAMED:delim:lf", {"framing": "delim:\\n"}),
    ("c2s:delim:\\n,s2c:len:4:be", {"c2s": "delim:\\n", "s2c": "len:4:be"}),
    ("framed:s2c:fixed:8, c2s:delim:crlf", {"c2s": "delim:\\r\\n", "s2c": "fixed:8"}),
    ("c2s:delim:,,s2c:len:2:le:offset=1", {"c2s": "delim:0x2c", "s2c": "len:2:le:offset=1"}),
    ("s2c:lenjson:4:be:size", {"c2s": None, "s2c": "lenjson:4:be:size"})])
def test_stated_framings(text, options):
    """A framing for both directions, or one per direction (a direction left out is not
    cut); `framed:` in front is the same; the canonical text parses back to the same."""
    assert framed.is_stated(text)
    assert framed.stated_options(text) == options
    assert framed.stated_options(framed.stated_text(options)) == options


@pytest.mark.parametrize("text, words", [
    ("framed", "framed needs a framing"), ("framed:", "framed needs a framing"),
    ("c2s:delim:lf,s2c:", "s2c: needs a framing"),
    ("c2s:delim:lf,c2s:len:4:le", "c2s is given twice"),
    ("c2s:len:3:le", "c2s: len needs SIZE:ENDIAN"),
    ("s2c:len:4:be,fixed:3", "c2s:FRAMING,s2c:FRAMING"),
    ("len:4:le,s2c:len:2:be", "c2s:FRAMING,s2c:FRAMING"),
    ("framed:chat", "unknown framing 'chat'")])
def test_stated_framing_errors(text, words):
    with pytest.raises(ValueError, match=words):
        framed.stated_options(text)


def test_decode_as_per_direction_and_framed_synonym():
    assert registry.parse_decode_as("7005=framed:len:4:le") == \
        registry.parse_decode_as("7005=len:4:le")
    assert registry.parse_decode_as("7005=c2s:delim:lf,s2c:len:4:be") == \
        (7005, "framed", {"c2s": "delim:\\n", "s2c": "len:4:be"})
    assert not framed.is_stated("lenmsg:native") and not framed.is_stated("infer")
    for bad_text, words in (("7005=c2s:len:4:le,s2c:zig", "s2c: unknown framing"),
                            ("7005=framed", "framed needs a framing")):
        with pytest.raises(ValueError, match=f"bad decode-as .*{words}"):
            registry.parse_decode_as(bad_text)
    c = framed.Connection(SERVER, **registry.parse_decode_as("7005=c2s:delim:lf")[2])
    assert c.receive_sizes(b"ab\ncd\n") == [3, 3]
    assert framed.Connection(CLIENT, **registry.parse_decode_as("7005=c2s:delim:lf")[2]) \
        .receive_sizes(b"ab\n") == []
