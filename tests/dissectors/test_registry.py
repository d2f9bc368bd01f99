from __future__ import annotations

import pytest

from dissectors import auth, filexfer, lenmsg, registry, udpecho
from dissectors.base import SERVER, RemoteProtocolError
from dissectors.registry import REGISTRY, by_port, detect, new_connection, parse_decode_as, probe
from tests.dissectors.cases import CHALLENGE, SECRET, fx


def test_registry_table_matches_the_protocol_doc():
    ports = {name: (s.transport, s.default_port, s.framed) for name, s in REGISTRY.items()}
    assert ports == {"chat": ("tcp", 9000, False), "lenmsg": ("tcp", 9001, True),
                     "filexfer": ("tcp", 9002, True), "auth": ("tcp", 9003, True),
                     "bigreply": ("tcp", 9004, True), "udpecho": ("udp", 9005, True)}
    assert REGISTRY["lenmsg"].variants == ("network", "native")
    assert set(REGISTRY["auth"].variants) == {"md5-hex", "hmac-md5", "hmac-sha256"}
    assert by_port("tcp", 9001).name == "lenmsg"
    assert by_port("udp", 9001) is None and by_port("udp", 9005).name == "udpecho"


@pytest.mark.parametrize("text,expected", [
    ("9999=lenmsg:native", (9999, "lenmsg", {"variant": "native"})),
    ("9001=lenmsg", (9001, "lenmsg", {})),
    (" 80 = chat ", (80, "chat", {})),
    ("9003=auth:hmac-md5", (9003, "auth", {"variant": "hmac-md5"})),
])
def test_parse_decode_as(text, expected):
    assert parse_decode_as(text) == expected


@pytest.mark.parametrize("text", ["", "lenmsg", "=lenmsg", "0=lenmsg", "70000=lenmsg", "x=lenmsg",
                                  "9999=nope", "9999=lenmsg:big", "9999=chat:native", "9999=lenmsg:"])
def test_parse_decode_as_rejects(text):
    with pytest.raises(ValueError, match="decode-as"):
        parse_decode_as(text)


def test_probe_recognises_each_protocol_from_its_first_bytes():
    assert probe("tcp", b"hello there\n", b"HELLO THERE\n").name == "chat"
    assert probe("tcp", lenmsg.encode(b"hello"), lenmsg.encode(b"HELLO")).name == "lenmsg"
    assert detect("tcp", lenmsg.encode(b"hi", "native"), b"")[1] == {"variant": "native"}
    assert probe("tcp", fx({"filename": "a", "filesize": 1}) + b"x", b"").name == "filexfer"
    assert probe("tcp", b"GET status\n", b"REPORT status 10\n").name == "bigreply"
    ans = auth.compute_answer(SECRET, CHALLENGE, "md5-hex")
    spec, opts = detect("tcp", ans, CHALLENGE)
    assert spec.name == "auth" and opts == {"variant": "md5-hex"}
    assert probe("udp", b"ping", b"PING").name == "udpecho"
    assert probe("tcp", b"\x16\x03\x01\x02\x00\x01", b"\x16\x03\x03") is None   # TLS: not ours
    assert probe("tcp", b"", b"") is None


def test_new_connection_passes_options():
    c = new_connection("lenmsg", SERVER, variant="native", max_frame=10)
    assert c.variant == "native" and c.max_frame == 10
    with pytest.raises(KeyError, match="unknown protocol"):
        new_connection("nope", SERVER)


def test_auth_compute_and_verify_match_the_lecture_code():
    import hashlib
    import hmac
    assert auth.compute_answer(SECRET, CHALLENGE, "md5-hex") == hashlib.md5(SECRET + CHALLENGE).hexdigest().encode()
    assert auth.compute_answer(SECRET, CHALLENGE, "hmac-md5") == hmac.new(SECRET, CHALLENGE, "md5").digest()
    for v in auth.VARIANTS:
        a = auth.compute_answer(SECRET, CHALLENGE, v)
        assert auth.verify(SECRET, CHALLENGE, a, v)
        assert not auth.verify(b"wrong", CHALLENGE, a, v)
        assert not auth.verify(SECRET, CHALLENGE, a[:-1], v)


def test_auth_guess_hmac_md5_at_eof():
    c = auth.Connection(SERVER)
    ans = auth.compute_answer(SECRET, CHALLENGE, "hmac-md5")
    assert c.receive_data(ans) == []
    assert c.receive_data(b"") == [auth.Answer(ans, "hmac-md5")]


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..\\x", "C:x", "a\0b", "", ".", "..",
                                  "x" * 300, "é" * 128])
def test_unsafe_filenames_are_named(name):
    assert filexfer.filename_problem(name) is not None


@pytest.mark.parametrize("name", ["a.txt", "report-2024.csv", "é" * 100, ".hidden", "x" * 255])
def test_safe_filenames(name):
    assert filexfer.filename_problem(name) is None


def test_udpecho_datagrams_including_empty():
    c = udpecho.Connection(SERVER)
    assert c.receive_data(b"abc") == [udpecho.Datagram(b"abc")]
    assert c.receive_datagram(b"") == [udpecho.Datagram(b"")]
    with pytest.raises(RemoteProtocolError, match="too large"):
        udpecho.Connection(SERVER).receive_data(b"x" * 65508)
    assert c.receive_data(b"") == []


def test_big_content_is_streamed_not_buffered():
    """A 64 MB upload in 1 MB chunks: events never larger than chunk_size, buffer stays small."""
    c = filexfer.Connection(SERVER, chunk_size=65536)
    assert len(c.receive_data(fx({"filename": "big", "filesize": 64 << 20}))) == 1
    block = b"\0" * (1 << 20)
    total = 0
    for _ in range(64):
        evs = c.receive_data(block)
        assert all(len(e.data) <= 65536 for e in evs)
        total += sum(len(e.data) for e in evs)
        assert len(c._buf) == 0
    assert total == 64 << 20 and evs[-1].end_of_message
    assert registry.get("filexfer").connection is filexfer.Connection
