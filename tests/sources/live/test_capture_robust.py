"""`wirelab capture` beside tcpdump: a closed terminal, a kill, a full disk, `-i any`, pcapng,
ring buffers, `-D` (real loopback traffic, real tcpdump and tshark)."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzer.sources.live import capture_rights
from analyzer.sources.open import open_capture

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not capture_rights(), reason="needs root/CAP_NET_RAW")]
ROOT = Path(__file__).resolve().parents[3]


def _free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _send_udp(port: int, n: int, size: int = 3) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n):
        s.sendto(b"p" * size, ("127.0.0.1", port))
    s.close()


def _count(path) -> int:
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True)
    return len(out.stdout.split())


def _start_capture(*args) -> subprocess.Popen:
    """`wirelab capture ARGS` in its own process group (as a terminal would start it)."""
    return subprocess.Popen([sys.executable, "-m", "analyzer", "capture", *args], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _start_tcpdump(path, iface: str, bpf: str) -> subprocess.Popen:
    return subprocess.Popen(["tcpdump", "-i", iface, "-U", "-w", str(path), bpf],
                            start_new_session=True, stderr=subprocess.DEVNULL)


def _wait_listening(proc: subprocess.Popen) -> None:
    """Until the capture says it is capturing (its socket is bound by then)."""
    line = proc.stderr.readline()
    assert line.startswith("capturing on"), line


@pytest.mark.parametrize("sig", ["SIGHUP", "SIGKILL", "SIGTERM"])
def test_quiet_spell_then_signal_to_the_group_keeps_what_tcpdump_keeps(tmp_path, sig):
    port = _free_udp_port()
    ours, theirs = tmp_path / "w.pcap", tmp_path / "t.pcap"
    cap = _start_capture("-f", f"udp port {port}", "-w", str(ours))
    dump = _start_tcpdump(theirs, "lo", f"udp port {port}")
    _wait_listening(cap)
    time.sleep(1.0)                                   # tcpdump's socket is up too
    _send_udp(port, 18)
    time.sleep(3.0)                                   # a quiet spell, then the terminal goes
    os.killpg(cap.pid, getattr(signal, sig))
    _out, err = cap.communicate(timeout=20)
    os.killpg(dump.pid, signal.SIGINT)
    dump.wait(10)
    assert _count(theirs) == 18
    assert _count(ours) == 18
    if sig != "SIGKILL":                              # a clean stop: counts said, exit 0
        assert cap.returncode == 0, err
        assert "18 packets captured" in err and "Traceback" not in err


@pytest.fixture
def tiny_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)     # -l: also while a map is open


def test_full_disk_exits_1_and_says_how_many_packets_were_saved(tiny_disk):
    port = _free_udp_port()
    out = tiny_disk / "f.pcap"
    cap = _start_capture("-f", f"udp port {port}", "-w", str(out))
    _wait_listening(cap)
    for _ in range(100):
        _send_udp(port, 1, size=1000)
        time.sleep(0.002)
    _stdout, err = cap.communicate(timeout=20)
    lines = err.strip().splitlines()
    assert cap.returncode == 1, err
    assert len(lines) == 1 and "No space left on device" in lines[0]
    saved = int(re.search(r"(\d+) packets saved in", lines[0]).group(1))
    assert 0 < saved < 100
    with open_capture(str(out)) as src:
        assert len(list(src)) == saved == _count(out) and src.warnings == []


def test_any_interface_writes_what_tcpdump_any_writes(tmp_path):
    port = _free_udp_port()
    ours, theirs = tmp_path / "any.pcapng", tmp_path / "td.pcap"
    cap = _start_capture("-i", "any", "-f", f"udp port {port}", "-w", str(ours))
    dump = _start_tcpdump(theirs, "any", f"udp port {port}")
    _wait_listening(cap)
    time.sleep(1.0)
    _send_udp(port, 7)
    time.sleep(1.0)
    os.killpg(cap.pid, signal.SIGINT)
    os.killpg(dump.pid, signal.SIGINT)
    cap.communicate(timeout=20)
    dump.wait(10)
    mine = [r for r in open_capture(str(ours))]
    want = [r for r in open_capture(str(theirs))]
    assert {r.linktype for r in mine} == {276} == {r.linktype for r in want}
    assert [r.data for r in mine] == [r.data for r in want] and len(mine) == 7


def test_pcapng_by_name_and_by_option_with_interface_and_comment(tmp_path):
    port = _free_udp_port()
    for name, extra in (("n.pcapng", ()), ("n2.pcap", ("-F", "pcapng"))):
        path = tmp_path / name
        cap = _start_capture("-f", f"udp port {port}", "-w", str(path), *extra, "-c", "4")
        _wait_listening(cap)
        _send_udp(port, 4)
        _out, err = cap.communicate(timeout=20)
        assert cap.returncode == 0, err
        assert open_capture(str(path)).format == "pcapng"
        rows = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e",
                               "frame.interface_name"], capture_output=True, text=True).stdout
        assert rows.split() == ["lo"] * 4
        info = subprocess.run(["capinfos", str(path)], capture_output=True, text=True).stdout
        assert f"wirelab capture on lo, filter 'udp port {port}'" in info


def test_ring_buffer_files_named_like_dumpcap(tmp_path):
    port = _free_udp_port()
    cap = _start_capture("-f", f"udp port {port}", "-w", str(tmp_path / "r.pcap"),
                         "-b", "filesize:2", "-b", "files:3", "-c", "60")
    _wait_listening(cap)
    for _ in range(60):
        _send_udp(port, 1, size=200)
        time.sleep(0.001)
    _out, err = cap.communicate(timeout=20)
    assert cap.returncode == 0, err
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 3
    assert all(re.fullmatch(r"r_\d{5}_\d{14}\.pcap", n) for n in names)
    assert sum(_count(tmp_path / n) for n in names) < 60 and all(_count(tmp_path / n) for n in names)


def test_list_interfaces_and_bad_ring_options():
    out = subprocess.run([sys.executable, "-m", "analyzer", "capture", "-D"], cwd=ROOT,
                         capture_output=True, text=True)
    lines = out.stdout.splitlines()
    assert out.returncode == 0 and "lo (Loopback)" in " ".join(lines)
    assert any(re.fullmatch(r"\d+\. any", ln) for ln in lines)
    assert all(re.match(r"\d+\. \S+", ln) for ln in lines)
    bad = subprocess.run([sys.executable, "-m", "analyzer", "capture", "-b", "files:2", "-w",
                          "x.pcap"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "filesize:KB or duration:S" in bad.stderr
