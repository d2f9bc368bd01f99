"""Bad input to `serve`, `client` and `lab`: one clear error line, a non-zero exit, nothing
started and no file left."""
from __future__ import annotations


import os
import socket
import stat
from pathlib import Path

import pytest

from tests.commands.bad_input import GOOD, assert_one_error_line, assert_usage_error, wirelab


@pytest.fixture
def busy_ports():
    """A listening TCP port and a bound UDP port, held for the test."""
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    t.listen()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    yield t.getsockname()[1], u.getsockname()[1]
    t.close()
    u.close()


def test_serve_port_in_use(busy_ports):
    tcp, udp = busy_ports
    for proto, port in (("chat", tcp), ("udpecho", udp)):
        out = wirelab("serve", proto, "--port", str(port))
        assert_one_error_line(out, "serve", "cannot listen", str(port), "in use")


@pytest.mark.parametrize("args,words", [
    (("chat", "--port", "99999"), ("bad port 99999",)),
    (("chat", "--port", "-1"), ("bad port -1",)),
    (("chat", "--host", "999.1.1.1", "--port", "0"), ("cannot listen on 999.1.1.1",)),
    (("lenmsg", "--variant", "weird", "--port", "0"), ("unknown variant 'weird'",)),
    (("auth", "--variant", "weird", "--port", "0"), ("unknown auth variant 'weird'",)),
    (("chat", "--variant", "native", "--port", "0"), ("chat has no variants",)),
    (("chat", "--idle-timeout", "0", "--port", "0"), ("--idle-timeout",)),
    (("chat", "--idle-timeout", "-1", "--port", "0"), ("--idle-timeout",)),
    (("chat", "--idle-timeout", "nan", "--port", "0"), ("--idle-timeout",)),
    (("chat", "--max-threads", "0", "--port", "0"), ("--max-threads",)),
    (("chat", "--recv-size", "0", "--port", "0"), ("--recv-size",)),
], ids=["port-big", "port-neg", "host", "lenmsg-variant", "auth-variant", "chat-variant",
        "idle0", "idle-neg", "idle-nan", "threads0", "recv0"])
def test_serve_bad_options(args, words):
    env = {**os.environ, "WIRELAB_SECRET": "qa-secret"}   # auth checks its variant too
    assert_one_error_line(wirelab("serve", *args, env=env), "serve", *words)


def test_serve_bad_secret_and_upload_dir(bad):
    env = {k: v for k, v in os.environ.items() if k != "WIRELAB_SECRET"}
    for path, words in ((bad["missing"], "cannot read secret file"),
                        (bad["dir"], "cannot read secret file"),
                        (bad["empty"], "is empty")):
        out = wirelab("serve", "auth", "--port", "0", "--secret-file", str(path), env=env)
        assert_one_error_line(out, "serve", words)
    out = wirelab("serve", "filexfer", "--port", "0", "--upload-dir", str(GOOD))
    assert_one_error_line(out, "serve", "cannot use upload directory")


def test_serve_usage_errors():
    assert_usage_error(wirelab("serve", "chat", "--port", "abc"), "--port")
    assert_usage_error(wirelab("serve", "nope"), "invalid choice")


@pytest.fixture
def refused_port():
    """A TCP port bound but not listening: a connect() to it is refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    yield s.getsockname()[1]
    s.close()


def test_client_errors(bad, refused_port):
    env = {k: v for k, v in os.environ.items() if k != "WIRELAB_SECRET"}
    port = str(refused_port)
    cases = [
        (("chat", "--port", port, "hi"), ("connection refused", port)),
        (("filexfer", "--port", port, str(bad["missing"])), ("no such file",)),
        (("auth", "--port", port, "hi"), ("needs a secret",)),
        (("auth", "--secret-file", str(bad["missing"]), "--port", port, "hi"),
         ("cannot read secret file",)),
    ]
    for args, words in cases:
        assert_one_error_line(wirelab("client", *args, env=env), "client", *words)


@pytest.mark.parametrize("args,words", [
    (("chat", "--port", "99999", "hi"), ("bad port 99999",)),
    (("chat", "--port", "-1", "hi"), ("bad port -1",)),
    (("chat", "--appio", "{nodir}", "hi"), ("cannot write sidecar", "No such file or directory")),
    (("chat", "--appio", "{dir}", "hi"), ("cannot write sidecar", "is a directory")),
    (("lenmsg", "--variant", "weird", "hi"), ("unknown variant 'weird'",)),
    (("chat", "--variant", "native", "hi"), ("chat has no variants",)),
    (("bigreply", ""), ("bad report name",)),
    (("bigreply", "a b"), ("bad report name",)),
    (("chat", "--timeout", "0", "hi"), ("--timeout",)),
    (("chat", "--timeout", "-1", "hi"), ("--timeout",)),
    (("chat", "--timeout", "nan", "hi"), ("--timeout",)),
    (("filexfer", "{dir}"), ("is a directory",)),
    (("filexfer", "--get", "a", "-o", "{nodir}"), ("cannot write", "no such directory")),
    (("filexfer", "--get", "a", "-o", "{dir}"), ("cannot write", "is a directory")),
], ids=["port-big", "port-neg", "appio-nodir", "appio-dir", "lenmsg-variant", "chat-variant",
        "bigreply-empty", "bigreply-space", "timeout0", "timeout-neg", "timeout-nan",
        "upload-dir", "get-nodir", "get-dir"])
def test_client_bad_options_fail_before_connecting(bad, args, words):
    """Checked before any connection: a listening server would not change the answer."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    try:
        port = str(srv.getsockname()[1])
        args = tuple(a.format(nodir=bad["nodir"], dir=bad["dir"]) for a in args)
        if "--port" not in args:
            args = (*args, "--port", port)
        assert_one_error_line(wirelab("client", *args), "client", *words)
        srv.setblocking(False)
        with pytest.raises(BlockingIOError):
            srv.accept()          # nobody connected
    finally:
        srv.close()
    assert not bad["nodir"].parent.exists()


@pytest.mark.parametrize("args,words", [
    (("--appio", "{nodir}"), ("cannot write sidecar", "No such file or directory")),
    (("--appio", "{dir}"), ("cannot write sidecar", "is a directory")),
    (("--first-read-delay", "-1"), ("--first-read-delay",)),
    (("--first-read-delay", "nan"), ("--first-read-delay",)),
], ids=["appio-nodir", "appio-dir", "delay-neg", "delay-nan"])
def test_serve_more_bad_options(bad, args, words):
    args = tuple(a.format(nodir=bad["nodir"], dir=bad["dir"]) for a in args)
    assert_one_error_line(wirelab("serve", "chat", "--port", "0", *args), "serve", *words)


@pytest.mark.parametrize("args,words", [
    (("nosuch",), ("unknown scenario 'nosuch'",)),
    ((), ("name a scenario",)),
    (("handshake", "--variant", "nosuch"), ("--variant",)),
    (("concurrent", "--clients", "0"), ("--clients",)),
    (("concurrent", "--clients", "-1"), ("--clients",)),
    (("concurrent", "--clients", "100000"), ("--clients",)),
], ids=["unknown", "none", "variant", "clients0", "clients-neg", "clients-big"])
def test_lab_bad_options(args, words):
    assert_one_error_line(wirelab("lab", *args), "lab", *words)


def test_lab_unwritable_output(bad):
    out = wirelab("lab", "handshake", "-w", str(bad["nodir"]))
    assert_one_error_line(out, "lab", "cannot write")
    assert not bad["nodir"].parent.exists()


def _make_non_regular(tmp_path: Path, kind: str) -> Path:
    """A non-regular file of our own under tmp_path (never anything in /dev)."""
    p = tmp_path / f"out-{kind}.pcap"
    if kind == "dir":
        p.mkdir()
    elif kind == "fifo":
        os.mkfifo(p)
    elif kind == "chardev":
        try:
            os.mknod(p, 0o600 | stat.S_IFCHR, os.makedev(1, 3))   # a private null device
        except PermissionError:
            pytest.skip("mknod needs root")
    return p


@pytest.mark.parametrize("kind", ["dir", "fifo", "chardev"])
def test_lab_output_not_a_regular_file_is_left_alone(tmp_path, kind):
    target = _make_non_regular(tmp_path, kind)
    before = os.lstat(target)
    out = wirelab("lab", "handshake", "-w", str(target))
    assert_one_error_line(out, "lab", "cannot write", "not a regular file")
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert after.st_ino == before.st_ino and after.st_rdev == before.st_rdev


def test_lab_sidecar_not_a_regular_file_keeps_the_old_capture(tmp_path):
    pcap = tmp_path / "x.pcap"
    pcap.write_bytes(b"old")
    (tmp_path / "x.pcap.appio.jsonl").mkdir()
    out = wirelab("lab", "handshake", "-w", str(pcap))
    assert_one_error_line(out, "lab", "cannot write", "appio.jsonl", "not a regular file")
    assert pcap.read_bytes() == b"old"
