"""`wirelab web` options: 127.0.0.1 unless told, one-line errors for bad input (no browser)."""
from __future__ import annotations

import os

import pytest

from analyzer.cli import build_parser, main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURE = os.path.join(ROOT, "captures", "handshake.pcap")


def test_binds_to_loopback_by_default():
    args = build_parser("web").parse_args(["web", CAPTURE])
    assert (args.host, args.port) == ("127.0.0.1", 8000)


@pytest.mark.parametrize("args, message", [
    ([], "give a capture FILE or --live"),
    ([CAPTURE, "--live"], "give a capture FILE or --live"),
    (["nosuch.pcap"], "nosuch.pcap: no such file"),
    ([CAPTURE, "--port", "70000"], "bad port 70000"),
    ([CAPTURE, "-Y", "tcp.prot == 1"], "bad display filter"),
    ([CAPTURE, "--decode-as", "9001=nosuch"], "9001=nosuch"),
])
def test_bad_input_is_one_line(capsys, args, message):
    assert main(["web", *args]) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_port_in_use_is_one_line(capsys):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["web", CAPTURE, "--port", str(port)]) != 0
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
