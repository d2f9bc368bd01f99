"""analyzer.engine.auth_check: accepted / rejected / replayed / unchecked from the bytes of
crafted auth conversations (one per variant), decoded on the auth port 9003."""
from __future__ import annotations

import os

import pytest

from analyzer.engine import analyze_file
from analyzer.engine.auth_check import NO_SECRET, AuthChecker, checker_for
from dissectors import auth as authcodec
from tests.engine.craft import Conn, write

SECRET = b"lecture-secret"


def _auth_conn(cport: int, challenge: bytes, answer: bytes, server_goes_on: bool):
    c = Conn(cport=cport, sport=9003).handshake()
    c.send(1, challenge)
    c.send(0, answer + b"hi\n")
    if server_goes_on:
        c.send(1, b"HI\n")
    return c.fin()


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    """0 good hmac-sha256, 1 wrong md5-hex, 2 replay of 0's answer, 3 good hmac-md5,
    4 an answer cut short by the end of the capture."""
    ch = [bytes([k]) * 16 + os.urandom(16) for k in range(5)]
    good = authcodec.compute_answer(SECRET, ch[0], "hmac-sha256")
    conns = [
        _auth_conn(40000, ch[0], good, True),
        _auth_conn(40001, ch[1], authcodec.compute_answer(b"wrong", ch[1], "md5-hex"), False),
        _auth_conn(40002, ch[2], good, False),
        _auth_conn(40003, ch[3], authcodec.compute_answer(SECRET, ch[3], "hmac-md5"), True),
    ]
    short = Conn(cport=40004, sport=9003).handshake()
    short.send(1, ch[4])
    short.send(0, b"\x01" * 10)
    pkts = [p for c in conns for p in c.pkts] + short.pkts
    path = write(tmp_path_factory.mktemp("auth") / "auth.pcap", pkts)
    return analyze_file(path, decode_as={9003: "auth"})


def _verdicts(eng, secret):
    checker = AuthChecker(secret)
    return [checker.verdict(eng, c) for c in eng.conversations]


def test_with_the_secret(capture):
    got = _verdicts(capture, SECRET)
    assert [v.verdict for v in got] == ["accepted", "rejected", "replayed", "accepted",
                                        "unchecked"]
    assert got[0].variant == "hmac-sha256" and got[3].variant == "hmac-md5"
    assert "not a network fault" in got[1].why
    assert "conversation 0" in got[2].why
    assert "not complete" in got[4].why


def test_without_a_secret_nothing_is_judged(capture):
    got = _verdicts(capture, None)
    assert [v.verdict for v in got] == ["unchecked"] * 5
    assert NO_SECRET in got[0].why and "went on talking" in got[0].why
    assert "went on talking" not in got[1].why


def test_a_wrong_secret_rejects_every_answer(capture):
    got = _verdicts(capture, b"not it")
    assert [v.verdict for v in got][:4] == ["rejected", "rejected", "replayed", "rejected"]


def test_asked_out_of_order_the_replay_is_still_found(capture):
    checker = AuthChecker(SECRET)
    convs = capture.conversations
    assert checker.verdict(capture, convs[2]).verdict == "replayed"
    assert checker.verdict(capture, convs[0]).verdict == "accepted"


def test_answer_packet_mark_and_shared_checker(capture):
    checker = checker_for(capture, SECRET)
    assert checker is checker_for(capture, SECRET)
    v = checker.verdict(capture, capture.conversations[1])
    assert checker.mark(capture, v.answer_packet) == " [auth: rejected]"
    assert checker.mark(capture, 1) == ""
