"""Bad input to `capture` and `live`: one clear error line, a non-zero exit, no file left."""
from __future__ import annotations


import os
import socket
import stat
import subprocess
import sys

import pytest

from tests.commands.bad_input import (TIMEOUT, assert_one_error_line, assert_usage_error,
                                      needs_capture, wirelab)


@pytest.mark.parametrize("args,words", [
    (("-i", "nosuchif0", "--duration", "1"), ("no such interface",)),
    (("-f", "tcp port", "--duration", "1"), ("bad capture filter",)),
    (("-c", "0", "--duration", "1"), ("-c/--count",)),
    (("-c", "-1", "--duration", "1"), ("-c/--count",)),
    (("--duration", "0"), ("--duration",)),
    (("--duration", "-1"), ("--duration",)),
    (("--duration", "nan"), ("--duration",)),
    (("--duration", "1e999"), ("--duration",)),
    (("--duration", "inf"), ("--duration",)),
], ids=["iface", "bpf", "c0", "c-1", "dur0", "dur-1", "dur-nan", "dur-huge", "dur-inf"])
def test_capture_bad_options(args, words):
    assert_one_error_line(wirelab("capture", *args), "capture", *words)


@needs_capture
def test_capture_unwritable_output(bad):
    for target, words in ((bad["nodir"], "No such file or directory"),
                          (bad["dir"], "Is a directory")):
        out = wirelab("capture", "-w", str(target), "--duration", "1", "-f", "tcp port 1")
        assert_one_error_line(out, "capture", "cannot write", words)
        assert not bad["nodir"].parent.exists()


@needs_capture
def test_capture_to_a_full_device_fails_at_start(tmp_path):
    full = tmp_path / "full"
    try:
        os.mknod(full, 0o600 | stat.S_IFCHR, os.makedev(1, 7))   # a private /dev/full
    except PermissionError:
        pytest.skip("mknod needs root")
    out = wirelab("capture", "-w", str(full), "--duration", "1", "-f", "tcp port 1")
    assert_one_error_line(out, "capture", "cannot write", "No space left on device")
    assert stat.S_ISCHR(os.lstat(full).st_mode)


@needs_capture
def test_capture_write_failing_mid_capture_is_an_error(tmp_path):
    """The capture child cannot write the pcap (file size limit): the parent reports it."""
    import resource

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    target = tmp_path / "small.pcap"

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))

    proc = subprocess.Popen([sys.executable, "-m", "analyzer", "capture", "-w", str(target),
                             "-f", f"tcp port {port}", "--duration", "4"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=limit)
    try:
        first = proc.stderr.readline()
        assert first.startswith("capturing on"), first
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port)) as c:
                c.sendall(b"x" * 1000)
                srv.accept()[0].close()
        _out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
        proc.wait()
        srv.close()
    assert "Traceback" not in err, err
    assert proc.returncode != 0, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("wirelab capture: error: capture failed: cannot write"), lines
    assert "File too large" in lines[0], lines


def test_capture_non_numeric_duration():
    assert_usage_error(wirelab("capture", "--duration", "abc"), "--duration")


@needs_capture
@pytest.mark.parametrize("key,args,words", [
    (None, ("-i", "nosuchif0"), ("no such interface",)),
    (None, ("-f", "tcp port"), ("bad capture filter",)),
    ("nodir", ("-w",), ("cannot write",)),
    ("dir", ("-w",), ("cannot write", "Is a directory")),
    (None, ("-Y", "(("), ("bad display filter",)),
    (None, ("--decode-as", "bad"), ("bad decode-as",)),
], ids=["iface", "bpf", "w-nodir", "w-dir", "filter", "decode-as"])
def test_live_bad_options(bad, key, args, words):
    if key:
        args = (*args, str(bad[key]))
    assert_one_error_line(wirelab("live", *args), "live", *words)
