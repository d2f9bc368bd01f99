"""filexfer under a full disk, a quota, misleading names and a killed server: the uploader
gets a status naming the cause, and no file (temp or final) is left behind."""
from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import time

import pytest

from analyzer.lab import clients
from analyzer.lab.servers import start_server
from tests.lab.servers.helpers import connect, wait_for
from tests.lab.servers.test_cli import WIRELAB, serve

TEMP = ".wirelab-upload-"


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _status(sock) -> dict:
    sock.settimeout(10)
    (n,) = struct.unpack("!I", _exact(sock, 4))
    return json.loads(_exact(sock, n))


def _exact(sock, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        assert chunk, "server closed without a status"
        buf += chunk
    return buf


def _upload_header(name: str, size: int) -> bytes:
    h = json.dumps({"filename": name, "filesize": size}).encode()
    return struct.pack("!I", len(h)) + h


def test_an_upload_bigger_than_the_free_space_is_refused_up_front(small_disk):
    logs = []
    with start_server("filexfer", upload_dir=str(small_disk), log=logs.append) as srv:
        st = clients.upload_bytes(*srv.address, "big.bin", os.urandom(3 << 20))
    assert not st["ok"] and st["error"].startswith("no space left on device")
    assert os.listdir(small_disk) == []
    assert any("upload 'big.bin' refused: no space left on device" in line for line in logs)


def test_a_disk_that_fills_during_the_upload_gives_a_status_naming_it(small_disk):
    logs = []
    size = 1 << 20
    with start_server("filexfer", upload_dir=str(small_disk), log=logs.append) as srv:
        s = connect(srv.address)
        s.sendall(_upload_header("late.bin", size))
        assert wait_for(lambda: any("'late.bin' (1048576 bytes) started" in line for line in logs))
        with open(small_disk / "filler", "wb") as f:          # someone else fills the disk
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        try:
            s.sendall(os.urandom(size))
        except OSError:
            pass
        st = _status(s)
        s.close()
        assert wait_for(lambda: any("'late.bin' failed: no space left on device" in line for line in logs))
    assert not st["ok"] and st["error"] == "no space left on device"
    assert sorted(os.listdir(small_disk)) == ["filler"]


def test_quota_and_max_upload_are_refused_with_their_names(tmp_path):
    up = tmp_path / "up"
    with start_server("filexfer", upload_dir=str(up), quota=1000, max_upload=800) as srv:
        assert clients.upload_bytes(*srv.address, "a.bin", b"a" * 600)["ok"]
        over = clients.upload_bytes(*srv.address, "b.bin", b"b" * 600)
        big = clients.upload_bytes(*srv.address, "c.bin", b"c" * 900)
    assert over["error"].startswith("quota exceeded: the upload directory holds 600 of 1000 bytes")
    assert big["error"] == "file too large: 900 bytes > --max-upload 800"
    assert sorted(os.listdir(up)) == ["a.bin"]


@pytest.mark.parametrize("name, why", [
    ("\u202egpj.exe", "bidirectional control"),
    ("report\u2066.txt", "bidirectional control"),
    (TEMP + "x", "temp-file prefix"),
])
def test_misleading_names_are_refused(tmp_path, name, why):
    up = tmp_path / "up"
    with start_server("filexfer", upload_dir=str(up)) as srv:
        st = clients.upload_bytes(*srv.address, name, b"data")
    assert not st["ok"] and why in st["error"]
    assert os.listdir(up) == []


def _serve_and_start_an_upload(up):
    p, port = serve("filexfer", "--upload-dir", str(up))
    s = connect(("127.0.0.1", int(port)))
    s.sendall(_upload_header("half.bin", 1 << 20) + b"h" * 1000)
    assert wait_for(lambda: any(n.startswith(TEMP) for n in os.listdir(up)), timeout=10)
    return p, s


def test_sigterm_mid_upload_stops_cleanly_and_leaves_no_temp_file(tmp_path):
    up = tmp_path / "up"
    p, s = _serve_and_start_an_upload(up)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    s.close()
    assert p.returncode == 0 and "Traceback" not in err, err
    assert "stopped (SIGTERM): 1 connections, 0 refused" in out
    assert "upload 'half.bin' incomplete (1000 of 1048576 bytes): temp file removed" in out
    assert os.listdir(up) == []


def test_sigkill_mid_upload_then_the_next_start_removes_the_temp_file(tmp_path):
    up = tmp_path / "up"
    p, s = _serve_and_start_an_upload(up)
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    s.close()
    assert [n for n in os.listdir(up) if n.startswith(TEMP)]          # what the kill left
    again, _ = serve("filexfer", "--upload-dir", str(up))
    try:
        line = again.stdout.readline()
        assert "removed 1 stale temp file(s)" in line, line
        assert os.listdir(up) == []
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=10)


def test_a_running_upload_of_another_server_is_not_taken_for_stale(tmp_path):
    up = tmp_path / "up"
    with start_server("filexfer", upload_dir=str(up)) as first:
        s = connect(first.address)
        s.sendall(_upload_header("busy.bin", 1 << 20) + b"b" * 100)
        assert wait_for(lambda: any(n.startswith(TEMP) for n in os.listdir(up)))
        with start_server("filexfer", upload_dir=str(up)) as second:
            assert second.server.options["store"].stale_removed == 0
            assert any(n.startswith(TEMP) for n in os.listdir(up))
        s.close()


@pytest.mark.parametrize("kind", ["file", "read-only"])
def test_an_unusable_upload_dir_fails_at_start_with_one_line(tmp_path, kind):
    target = tmp_path / "target"
    if kind == "file":
        target.write_text("not a directory")
    else:
        target.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)], check=True)
    try:
        r = subprocess.run(WIRELAB + ["serve", "filexfer", "--port", "0", "--upload-dir", str(target)],
                           capture_output=True, text=True, timeout=30)
    finally:
        if kind == "read-only":
            subprocess.run(["umount", "-l", str(target)], check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1, r.stderr
    why = "not a directory" if kind == "file" else "Read-only file system"
    assert r.stderr.startswith(f"wirelab serve: error: cannot use upload directory {target}: {why}")


def test_sigterm_stops_every_server_kind_with_its_counts():
    p, port = serve("lenmsg")
    time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0 and "Traceback" not in err
    assert "wirelab serve lenmsg: stopped (SIGTERM): 0 connections" in out
