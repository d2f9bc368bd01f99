"""Live capture on lo with real sockets (CI runs as root)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from analyzer.errors import WirelabError
from analyzer.sources.live import LiveCapture, capture_rights
from analyzer.sources.pcapfile import read_pcap

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not capture_rights(), reason="needs root/CAP_NET_RAW")]


def _udp_sink():
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("127.0.0.1", 0))
    return r, r.getsockname()[1]


def _tshark_count(path, display_filter=""):
    cmd = ["tshark", "-r", path, "-T", "fields", "-e", "frame.number"]
    if display_filter:
        cmd += ["-Y", display_filter]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return len(out.split())


def test_udp_each_packet_once_and_written(tmp_path):
    r, port = _udp_sink()
    out = str(tmp_path / "u.pcap")
    with LiveCapture("lo", f"udp port {port}", write_to=out) as cap:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(200):
            s.sendto(b"m%03d" % i, ("127.0.0.1", port))
        time.sleep(0.3)
    recs = cap.drain()
    assert len(recs) == 200
    assert cap.stats == (200, 0)
    payloads = [rec.data[-4:] for rec in recs]
    assert payloads == [b"m%03d" % i for i in range(200)]   # in order, no loopback twins
    assert [rec.data for rec in read_pcap(out)] == [rec.data for rec in recs]
    assert _tshark_count(out) == 200
    r.close()


def test_filter_excludes_other_ports(tmp_path):
    r1, p1 = _udp_sink()
    r2, p2 = _udp_sink()
    with LiveCapture("lo", f"udp port {p1}") as cap:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(10):
            s.sendto(b"a", ("127.0.0.1", p1))
            s.sendto(b"b", ("127.0.0.1", p2))
        time.sleep(0.3)
    recs = cap.drain()
    assert len(recs) == 10 and all(rec.data.endswith(b"a") for rec in recs)


def test_tcp_connection_seen_once(tmp_path):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    out = str(tmp_path / "t.pcap")
    with LiveCapture("lo", f"tcp port {port}", write_to=out) as cap:
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = srv.accept()
        c.sendall(b"hello")
        assert a.recv(100) == b"hello"
        c.close()
        a.close()
        time.sleep(0.3)
    # tshark: exactly one SYN, no retransmission/dup flags caused by twins
    assert _tshark_count(out, "tcp.flags.syn==1 && tcp.flags.ack==0") == 1
    assert _tshark_count(out, "tcp.analysis.retransmission || tcp.analysis.duplicate_ack") == 0
    assert _tshark_count(out, "tcp.len==5") == 1
    srv.close()


def test_count_stops_capture_and_iterates():
    r, port = _udp_sink()
    cap = LiveCapture("lo", f"udp port {port}", count=3)
    cap.start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(6):
        s.sendto(b"x", ("127.0.0.1", port))
    assert cap.wait(5)
    assert len(list(cap)) == 3
    assert cap.stats[0] == 3


def test_duration_and_stop_from_other_thread():
    r, port = _udp_sink()
    cap = LiveCapture("lo", f"udp port {port}", duration=0.3)
    cap.start()
    assert cap.wait(5) and not cap.running
    cap2 = LiveCapture("lo", f"udp port {port}").start()
    threading.Timer(0.2, cap2.stop).start()
    assert list(cap2) == []          # iterator ends once stop() is called
    assert not cap2.running


def test_bad_filter_and_interface_are_clear_errors():
    with pytest.raises(WirelabError, match="bad capture filter") as info:
        LiveCapture("lo", "tcp portx 1").start()
    assert "inbound" not in str(info.value)
    with pytest.raises(WirelabError, match="no such interface"):
        LiveCapture("nosuch0", "").start()


def _cli(*args, prefix=()):
    return subprocess.run([*prefix, sys.executable, "-m", "analyzer", *args],
                          capture_output=True, text=True, timeout=60)


def test_cli_capture_writes_and_prints_counts(tmp_path):
    r, port = _udp_sink()
    out = str(tmp_path / "c.pcap")
    proc = subprocess.Popen([sys.executable, "-m", "analyzer", "capture", "-i", "lo", "-f",
                             f"udp port {port}", "-w", out, "-c", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        s.sendto(b"ping", ("127.0.0.1", port))   # keeps sending until the capture is up
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    assert "5 packets captured" in stderr and "0 packets dropped" in stderr
    assert _tshark_count(out) == 5


@pytest.mark.skipif(shutil.which("capsh") is None, reason="capsh not installed")
def test_cli_without_cap_net_raw_says_what_is_needed():
    cmd = f"{sys.executable} -m analyzer capture -i lo -c 1"
    p = subprocess.run(["capsh", "--drop=cap_net_raw", "--", "-c", cmd],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr
    assert "CAP_NET_RAW" in lines[0] and "captures/" in lines[0]


def test_cli_bad_filter_one_line():
    p = _cli("capture", "-f", "tcp portx", "-c", "1")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stderr


def test_full_size_loopback_frames_are_not_cut(tmp_path):
    """A 65507-byte UDP datagram is a 65549-byte frame on lo (MTU 65536): libpcap's compiled
    filter would keep only 65535 bytes of it."""
    r, port = _udp_sink()
    r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    out = str(tmp_path / "big.pcap")
    with LiveCapture("lo", f"udp port {port}", write_to=out) as cap:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"x" * 65507, ("127.0.0.1", port))
        time.sleep(0.3)
    recs = cap.drain()
    assert [(len(rec.data), rec.origlen) for rec in recs] == [(65549, 65549)]
    assert [len(rec.data) for rec in read_pcap(out)] == [65549]


def test_thread_mode_captures_the_same(tmp_path):
    r, port = _udp_sink()
    with LiveCapture("lo", f"udp port {port}", process=False) as cap:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(50):
            s.sendto(b"t%02d" % i, ("127.0.0.1", port))
        time.sleep(0.3)
    assert [rec.data[-3:] for rec in cap.drain()] == [b"t%02d" % i for i in range(50)]


def test_cli_ctrl_c_to_the_process_group_keeps_every_packet(tmp_path):
    """Ctrl-C in a terminal signals the capture's whole process group (its child too)."""
    import signal
    r, port = _udp_sink()
    out = str(tmp_path / "int.pcap")
    proc = subprocess.Popen([sys.executable, "-m", "analyzer", "capture", "-f", f"udp port {port}",
                             "-w", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert "capturing on" in proc.stderr.readline()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(300):
        s.sendto(b"%03d" % i, ("127.0.0.1", port))
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "300 packets captured" in err and "Traceback" not in err
    assert [rec.data[-3:] for rec in read_pcap(out)] == [b"%03d" % i for i in range(300)]


def test_slow_consumer_costs_records_never_the_pcap(tmp_path):
    """Bounded memory: beyond max_queue waiting Records are counted as dropped; the pcap
    written by the capture process still has every packet."""
    r, port = _udp_sink()
    out = str(tmp_path / "q.pcap")
    with LiveCapture("lo", f"udp port {port}", write_to=out, max_queue=10) as cap:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(50):
            s.sendto(b"q%02d" % i, ("127.0.0.1", port))
        time.sleep(0.3)
    assert len(cap.drain()) == 10
    assert cap.stats == (50, 40)
    assert len(list(read_pcap(out))) == 50


def test_cli_duration_stops_and_summary_is_json(tmp_path):
    r, port = _udp_sink()
    proc = subprocess.Popen([sys.executable, "-m", "analyzer", "capture", "-f", f"udp port {port}",
                             "--duration", "1.5", "--summary"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert "capturing on" in proc.stderr.readline()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(3):
        s.sendto(b"abc", ("127.0.0.1", port))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "3 packets captured" in err
    lines = out.splitlines()
    assert len([l for l in lines if "UDP" in l or "udp" in l.lower()][:3]) == 3
    summary = json.loads(out[out.index("{"):])
    assert summary["packets"] == 3
    assert summary["conversations"][0]["transport"] == "udp"


def test_ipv6_loopback_packets_once():
    try:
        r = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        r.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    port = r.getsockname()[1]
    with LiveCapture("lo", f"udp port {port}") as cap:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        for i in range(5):
            s.sendto(b"six%d" % i, ("::1", port))
        time.sleep(0.3)
    recs = cap.drain()
    assert [rec.data[-4:] for rec in recs] == [b"six%d" % i for i in range(5)]
    assert all(rec.data[12:14] == b"\x86\xdd" for rec in recs)     # Ethernet type IPv6


def test_capture_child_dying_without_its_end_marker_is_an_error(tmp_path):
    """A capture child that dies (here: SIGKILL) is an error, not a normal end."""
    import signal
    cap = LiveCapture("lo", "tcp port 1", duration=30, write_to=str(tmp_path / "k.pcap"))
    cap.start()
    try:
        assert cap.child_pid
        os.kill(cap.child_pid, signal.SIGKILL)
        assert cap.wait(10)
    finally:
        cap.stop()
    assert cap.error is not None
    assert "capture process" in str(cap.error)
