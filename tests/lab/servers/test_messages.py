"""What the servers and clients say when something is wrong: a reset client, a secret file
others can read, a length in the other byte order, a file the client cannot read."""
from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
import sys

import pytest

from analyzer.commands.serve import read_secret
from analyzer.lab import clients
from analyzer.lab.clients import LabProtocolError
from analyzer.lab.servers import start_server
from tests.lab.servers.helpers import abort, closed_by_peer, connect, wait_for
from tests.lab.servers.test_cli import WIRELAB


@pytest.mark.parametrize("protocol", ["lenmsg", "auth", "chat"])
def test_a_reset_right_after_connect_is_logged_in_words(protocol):
    logs = []
    opts = {"secret": b"k"} if protocol == "auth" else {}
    with start_server(protocol, log=logs.append, **opts) as srv:
        for _ in range(20):
            abort(socket.create_connection(srv.address))
        assert wait_for(lambda: srv.server.open_connections == 0 and
                        sum("client reset the connection" in line for line in logs) == 20)
    # the words, not the errno: no "OSError 107" / "[Errno 107]" (a port may contain 107)
    assert not any("OSError" in line or "Errno" in line or re.search(r"(?<![\d.:])107\b", line)
                   for line in logs), logs


def test_a_secret_file_others_can_read_gets_a_warning(tmp_path, capsys):
    f = tmp_path / "secret"
    f.write_bytes(b"s3cret\n")
    f.chmod(0o644)
    assert read_secret(str(f)) == b"s3cret"
    err = capsys.readouterr().err
    assert err == f"warning: secret file {f} is readable by group/others (mode 0644): chmod 600 {f}\n"
    f.chmod(0o600)
    assert read_secret(str(f)) == b"s3cret"
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("server_variant, client_variant, seen, told", [
    ("network", "native", "little-endian length, as struct.pack('i', n) writes on x86: 5",
     "`wirelab serve lenmsg --variant native`"),
    ("native", "network", "network-order (big-endian) length, as struct.pack('!I', n) writes: 5",
     "`wirelab serve lenmsg --variant network`"),
])
def test_lenmsg_server_log_says_the_length_looks_like_the_other_byte_order(server_variant, client_variant,
                                                                            seen, told):
    logs = []
    with start_server("lenmsg", variant=server_variant, log=logs.append) as srv:
        s = connect(srv.address)
        fmt = "<i" if client_variant == "native" else "!I"
        s.sendall(struct.pack(fmt, 5) + b"hello")           # struct.pack('i', 5) on x86: 05 00 00 00
        assert closed_by_peer(s)
        s.close()
        assert wait_for(lambda: any("protocol error" in line for line in logs))
    line = next(line for line in logs if "protocol error" in line)
    assert "frame too large: 83886080" in line and seen in line and told in line
    assert "--decode-as" not in line          # the analyzer's advice does not fit a server


def test_lenmsg_client_says_the_server_may_use_the_other_byte_order():
    with start_server("lenmsg", variant="native") as srv:
        with pytest.raises(LabProtocolError, match=r"other byte order .*try --variant native"):
            clients.lenmsg_client(*srv.address, [b"hello"], variant="network")


def test_filexfer_client_says_the_server_uses_the_other_byte_order(tmp_path):
    with start_server("filexfer", variant="native", upload_dir=str(tmp_path / "up")) as srv:
        with pytest.raises(LabProtocolError, match=r"the server seems to use the other byte order.*"
                                                   r"wirelab client filexfer --variant native"):
            clients.upload_bytes(*srv.address, "x.txt", b"data", variant="network")


def test_filexfer_server_status_names_the_byte_order_too(tmp_path):
    logs = []
    with start_server("filexfer", variant="native", upload_dir=str(tmp_path / "up"), log=logs.append) as srv:
        with pytest.raises(LabProtocolError):
            clients.upload_bytes(*srv.address, "x.txt", b"data", variant="network")
        assert wait_for(lambda: any("protocol error" in line for line in logs))
    assert any("network-order (big-endian) length" in line and "--variant network" in line for line in logs)


def test_client_upload_of_an_unreadable_file_says_cannot_read():
    """As root every file is readable: the client runs in a child that became `nobody`."""
    import shutil
    import tempfile
    import analyzer.cli
    import analyzer.commands.client          # noqa: F401 - imported before the uid changes
    import analyzer.lab.clients              # noqa: F401
    where = tempfile.mkdtemp(prefix="wirelab-unreadable-", dir="/tmp")   # nobody may enter it
    os.chmod(where, 0o755)
    secret = os.path.join(where, "private.txt")
    with open(secret, "w") as f:
        f.write("x")
    os.chmod(secret, 0o000)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                             # the child: no return into pytest
        code = 99
        try:
            sys.stderr = os.fdopen(w, "w")
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            code = analyzer.cli.main(["client", "filexfer", secret, "--port", "1"])
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r) as f:
        err = f.read()
    _, status = os.waitpid(pid, 0)
    shutil.rmtree(where)
    assert os.waitstatus_to_exitcode(status) == 2, err
    assert err == f"wirelab client: error: cannot read {secret}: Permission denied\n"


def test_client_host_option_has_help():
    r = subprocess.run(WIRELAB + ["client", "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    assert "--host HOST server address (default 127.0.0.1; ::1 for IPv6)" in text


def test_serve_help_lists_the_limits():
    r = subprocess.run(WIRELAB + ["serve", "--help"], capture_output=True, text=True, timeout=30)
    for option in ("--message-timeout", "--min-rate", "--max-connections", "--buffer-budget",
                   "--max-upload", "--quota"):
        assert option in r.stdout
