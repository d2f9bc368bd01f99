"""The table of codec cases shared by the decode/encode tests and the fuzz tests."""
from __future__ import annotations

import hashlib
import json
import struct

from dissectors import auth, bigreply, chat, filexfer, lenmsg, udpecho
from dissectors.base import CLIENT, SERVER

N = lambda n: struct.pack("!I", n)          # noqa: E731  network length prefix
L = lambda n: struct.pack("<i", n)          # noqa: E731  native length prefix


def fx(obj, prefix=N) -> bytes:
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return prefix(len(raw)) + raw


def fxn(obj) -> int:
    """Wire length of a filexfer header frame."""
    return len(fx(obj))


def nraw(raw: bytes) -> bytes:
    return N(len(raw)) + raw


CHALLENGE = bytes(range(200, 232))
SECRET = b"s3cret"
SHA_ABC = hashlib.sha256(b"abc").hexdigest()

# (id, protocol module, our_role, options, wire bytes, expected messages)
# expected message = (event type names joined by "+", total wire length, payload bytes or None)
GOOD = [
    ("chat-lines", chat, SERVER, {}, b"hello\nworld\n", [("Text", 6, b"hello\n"), ("Text", 6, b"world\n")]),
    ("chat-tail-at-eof", chat, SERVER, {}, b"hi\nno newline", [("Text", 3, b"hi\n"), ("Text", 10, b"no newline")]),
    ("chat-chunks", chat, CLIENT, {"max_frame": 4}, b"abcdefghij\n",
     [("Text+Text+Text", 11, b"abcdefghij\n")]),
    ("chat-binary", chat, SERVER, {}, bytes(range(256)), [("Text", 11, bytes(range(11))), ("Text", 245, bytes(range(11, 256)))]),
    ("lenmsg-two", lenmsg, SERVER, {}, N(5) + b"hello" + N(0), [("Frame", 9, b"hello"), ("Frame", 4, b"")]),
    ("lenmsg-native", lenmsg, CLIENT, {"variant": "native"}, L(3) + b"abc" + L(1) + b"z",
     [("Frame", 7, b"abc"), ("Frame", 5, b"z")]),
    ("lenmsg-max", lenmsg, SERVER, {"max_frame": 3}, N(3) + b"abc", [("Frame", 7, b"abc")]),
    ("filexfer-upload", filexfer, SERVER, {}, fx({"filename": "a.txt", "filesize": 3, "sha256": SHA_ABC}) + b"abc",
     [("Header+Content", fxn({"filename": "a.txt", "filesize": 3, "sha256": SHA_ABC}) + 3, b"abc")]),
    ("filexfer-empty-file", filexfer, SERVER, {"variant": "native"}, fx({"filename": "e", "filesize": 0}, L),
     [("Header", fxn({"filename": "e", "filesize": 0}), b"")]),
    ("filexfer-get", filexfer, SERVER, {}, fx({"op": "get", "filename": "a.txt"}),
     [("Header", fxn({"op": "get", "filename": "a.txt"}), b"")]),
    ("filexfer-two-uploads", filexfer, SERVER, {"chunk_size": 2},
     fx({"filename": "a", "filesize": 5}) + b"12345" + fx({"filename": "b", "filesize": 1}) + b"x",
     [("Header+Content+Content+Content", fxn({"filename": "a", "filesize": 5}) + 5, b"12345"),
      ("Header+Content", fxn({"filename": "b", "filesize": 1}) + 1, b"x")]),
    ("filexfer-status", filexfer, CLIENT, {}, fx({"ok": True, "stored": "a.txt", "size": 3, "sha256": SHA_ABC}),
     [("Status", fxn({"ok": True, "stored": "a.txt", "size": 3, "sha256": SHA_ABC}), b"")]),
    ("filexfer-download", filexfer, CLIENT, {}, fx({"ok": True, "size": 3, "sha256": SHA_ABC}) + b"abc",
     [("Status+Content", fxn({"ok": True, "size": 3, "sha256": SHA_ABC}) + 3, b"abc")]),
    ("filexfer-error", filexfer, CLIENT, {}, fx({"ok": False, "error": "exists"}), [("Status", fxn({"ok": False, "error": "exists"}), b"")]),
    ("auth-challenge-then-chat", auth, CLIENT, {}, CHALLENGE + b"HI\n",
     [("Challenge", 32, CHALLENGE), ("Text", 3, b"HI\n")]),
    ("auth-md5hex", auth, SERVER, {}, auth.compute_answer(SECRET, CHALLENGE, "md5-hex") + b"hi\n",
     [("Answer", 32, auth.compute_answer(SECRET, CHALLENGE, "md5-hex")), ("Text", 3, b"hi\n")]),
    ("auth-hmac-md5", auth, SERVER, {"variant": "hmac-md5"}, auth.compute_answer(SECRET, CHALLENGE, "hmac-md5") + b"x\n",
     [("Answer", 16, auth.compute_answer(SECRET, CHALLENGE, "hmac-md5")), ("Text", 2, b"x\n")]),
    ("auth-hmac-sha256", auth, SERVER, {"variant": "hmac-sha256"}, auth.compute_answer(SECRET, CHALLENGE),
     [("Answer", 32, auth.compute_answer(SECRET, CHALLENGE))]),
    ("bigreply-requests", bigreply, SERVER, {}, b"GET status\nGET a.b-c_d\n",
     [("Request", 11, b""), ("Request", 12, b"")]),
    ("bigreply-reply", bigreply, CLIENT, {"chunk_size": 3}, b"REPORT status 7\n1234567ERROR no such report\n",
     [("ReportHeader+Body+Body+Body", 16 + 7, b"1234567"), ("Error", 21, b"")]),
    ("bigreply-empty-report", bigreply, CLIENT, {}, b"REPORT x 0\n", [("ReportHeader", 11, b"")]),
]

# (id, module, our_role, options, wire bytes, message fragment of the RemoteProtocolError)
BAD = [
    ("lenmsg-too-large", lenmsg, SERVER, {}, b"\xff\xff\xff\xff", "too large"),
    ("lenmsg-over-max", lenmsg, SERVER, {"max_frame": 4}, N(5) + b"hello", "too large"),
    ("lenmsg-negative", lenmsg, SERVER, {"variant": "native"}, L(-1), "negative"),
    ("lenmsg-short-body", lenmsg, SERVER, {}, N(10) + b"abc", "ended inside"),
    ("lenmsg-short-header", lenmsg, SERVER, {}, b"\x00\x00", "ended inside"),
    ("fx-bad-utf8", filexfer, SERVER, {}, N(3) + b"\xff\xfe{", "UTF-8"),
    ("fx-not-object", filexfer, SERVER, {}, fx([1, 2]), "not a JSON object"),
    ("fx-not-json", filexfer, SERVER, {}, N(5) + b"{abc}", "not valid JSON"),
    ("fx-missing-filename", filexfer, SERVER, {}, fx({"filesize": 1}), "filename"),
    ("fx-missing-filesize", filexfer, SERVER, {}, fx({"filename": "a"}), "filesize"),
    ("fx-filesize-neg", filexfer, SERVER, {}, fx({"filename": "a", "filesize": -1}), "filesize"),
    ("fx-filesize-str", filexfer, SERVER, {}, fx({"filename": "a", "filesize": "10"}), "filesize"),
    ("fx-filesize-true", filexfer, SERVER, {}, fx({"filename": "a", "filesize": True}), "filesize"),
    ("fx-filesize-1e999", filexfer, SERVER, {}, N(33) + b'{"filename":"a","filesize":1e999}', "filesize"),
    ("fx-filesize-5000-digits", filexfer, SERVER, {},
     nraw(b'{"filename":"a","filesize":' + b"9" * 5000 + b"}"), "5000 digits"),
    ("fx-filesize-4000-digits", filexfer, SERVER, {},
     nraw(b'{"filename":"a","filesize":' + b"9" * 4000 + b"}"), "4000 digits"),
    ("fx-nan", filexfer, SERVER, {}, N(31) + b'{"filename":"a","filesize":NaN}', "JSON"),
    ("fx-header-10MB", filexfer, SERVER, {}, N(10 * 1024 * 1024) + b"{", "header too large"),
    ("fx-header-2GB", filexfer, SERVER, {}, N(2 ** 31), "header too large"),
    ("fx-header-negative", filexfer, SERVER, {"variant": "native"}, L(-5), "negative"),
    ("fx-header-zero", filexfer, SERVER, {}, N(0), "header length 0"),
    ("fx-deep-nesting", filexfer, SERVER, {},
     nraw(b'{"filename":"a","filesize":1,"x":' + b"[" * 33 + b"]" * 33 + b"}"), "nested"),
    ("fx-very-deep-nesting", filexfer, SERVER, {}, N(60000) + b"[" * 60000, "nested"),
    ("fx-bad-sha", filexfer, SERVER, {}, fx({"filename": "a", "filesize": 0, "sha256": "XYZ"}), "sha256"),
    ("fx-short-content", filexfer, SERVER, {}, fx({"filename": "a", "filesize": 10}) + b"abc", "ended inside"),
    ("fx-bad-op", filexfer, SERVER, {}, fx({"op": "rm", "filename": "a"}), "op"),
    ("fx-status-no-ok", filexfer, CLIENT, {}, fx({"stored": "a"}), "ok"),
    ("auth-short-answer", auth, SERVER, {"variant": "hmac-sha256"}, b"\x01" * 20, "ended inside the answer"),
    ("auth-short-challenge", auth, CLIENT, {}, b"\x01" * 31, "ended inside the challenge"),
    ("big-bad-request", bigreply, SERVER, {}, b"PUT x\n", "bad request"),
    ("big-bad-name", bigreply, SERVER, {}, b"GET ../etc\n", "bad request"),
    ("big-long-line", bigreply, SERVER, {}, b"G" * 300, "longer than"),
    ("big-too-large-report", bigreply, CLIENT, {"max_frame": 10}, b"REPORT x 11\n", "too large"),
    ("big-short-report", bigreply, CLIENT, {}, b"REPORT x 10\nabc", "ended inside"),
    ("big-bad-reply", bigreply, CLIENT, {}, b"HELLO\n", "bad reply"),
]

STREAM_CODECS = [
    (chat, SERVER, {}), (chat, CLIENT, {"max_frame": 8}),
    (lenmsg, SERVER, {}), (lenmsg, CLIENT, {"variant": "native"}), (lenmsg, SERVER, {"max_frame": 64}),
    (filexfer, SERVER, {}), (filexfer, CLIENT, {}), (filexfer, SERVER, {"variant": "native", "chunk_size": 3}),
    (auth, SERVER, {}), (auth, CLIENT, {}), (auth, SERVER, {"variant": "hmac-md5"}),
    (bigreply, SERVER, {}), (bigreply, CLIENT, {"max_frame": 100}),
    (udpecho, SERVER, {}),
    (auth, SERVER, {"variant": "md5-hex"}), (filexfer, CLIENT, {"chunk_size": 2, "max_header": 40}),
    (bigreply, CLIENT, {"chunk_size": 2, "max_line": 12}), (chat, SERVER, {"max_frame": 1}),
]
