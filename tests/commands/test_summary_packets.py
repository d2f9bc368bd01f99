"""`wirelab summary` / `wirelab packets`: JSON keys, text output, errors, real loopback traffic."""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from tests.engine.craft import Conn, lenmsg, write

WIRELAB = [sys.executable, "-m", "analyzer"]


def run(*args, check=True):
    p = subprocess.run(WIRELAB + list(args), capture_output=True, text=True, timeout=60)
    if check:
        assert p.returncode == 0, p.stderr
    return p


@pytest.fixture
def sticky(tmp_path):
    c = Conn().handshake()
    c.send(0, lenmsg(b"one") + lenmsg(b"two") + lenmsg(b"three"), sizes=[10, 13])
    c.send(1, lenmsg(b"ONE"))
    c.fin()
    return write(tmp_path / "sticky.pcap", c.pkts)


def test_summary_json_contract(sticky):
    out = json.loads(run("summary", sticky, "--json").stdout)
    assert out["packets"] == 9
    conv = out["conversations"][0]
    for key in ("id", "transport", "client", "server", "state", "history", "handshake",
                "teardown", "protocol", "messages", "coalesced_packets", "split_messages",
                "analysis", "malformed"):
        assert key in conv, key
    assert conv["id"] == 0 and conv["transport"] == "tcp"
    assert conv["client"] == "127.0.0.1:40000" and conv["server"] == "127.0.0.2:9001"
    assert set(conv["handshake"]) >= {"complete", "frames", "rtt_ms"}
    assert conv["handshake"]["complete"] is True and conv["handshake"]["frames"] == [1, 2, 3]
    assert set(conv["teardown"]) >= {"kind", "initiator", "frames"}
    assert conv["protocol"] == "lenmsg"
    assert [(m["direction"], m["length"], m["packets"]) for m in conv["messages"]] == [
        ("c2s", 7, [4]), ("c2s", 7, [4, 5]), ("c2s", 9, [5]), ("s2c", 7, [6])]
    assert conv["coalesced_packets"] == [4, 5]
    assert conv["split_messages"] == 1
    for key in ("retransmission", "out_of_order", "lost_segment", "duplicate_ack",
                "zero_window", "keep_alive"):
        assert key in conv["analysis"], key


def test_packets_json_contract(sticky):
    lines = run("packets", sticky, "--json").stdout.splitlines()
    assert len(lines) == 9
    objs = [json.loads(x) for x in lines]
    for o in objs:
        for key in ("number", "time", "src", "dst", "transport", "flags", "seq", "ack", "len",
                    "stream", "analysis", "messages"):
            assert key in o, key
    assert [o["number"] for o in objs] == list(range(1, 10))
    assert objs[0]["flags"] == "S" and objs[0]["seq"] == 0
    assert objs[3]["len"] == 10 and objs[3]["seq"] == 1
    assert [m["index"] for m in objs[3]["messages"]] == [0, 1]
    assert objs[4]["seq"] == 11


def test_packets_text_and_count(sticky):
    out = run("packets", "-r", sticky, "-c", "5").stdout.splitlines()
    assert len(out) == 5
    assert "40000 → 9001 [SYN] Seq=0" in out[0]
    assert "LENMSG" in out[3] and "len=3 'one'" in out[3] and "len=3 'two'" in out[3]


def test_summary_text(sticky):
    out = run("summary", sticky).stdout
    assert "127.0.0.1:40000" in out and "lenmsg" in out
    assert "coalesced packets (carry 2+ messages): 4, 5" in out
    assert "len=5 'three'" in out
    assert "pkts=4,5 [split] len=3 'two'" in out


def test_decode_as_option(tmp_path):
    c = Conn(sport=7777).handshake()
    c.send(0, struct.pack("<i", 2) + b"hi")
    path = write(tmp_path / "da.pcap", c.pkts)
    out = json.loads(run("summary", path, "--json", "--decode-as", "7777=lenmsg:native").stdout)
    assert out["conversations"][0]["protocol"] == "lenmsg"
    assert out["conversations"][0]["messages"][0]["length"] == 6
    bad = run("summary", path, "--decode-as", "7777=nosuch", check=False)
    assert bad.returncode != 0 and "unknown protocol" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [None, b"", b"\x00" * 10, b"NOTAPCAPFILE" * 10])
@pytest.mark.parametrize("cmd", ["summary", "packets"])
def test_errors_one_line_no_traceback(tmp_path, cmd, content):
    path = tmp_path / "bad.pcap"
    if content is not None:
        path.write_bytes(content)
    p = run(cmd, str(path), check=False)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert p.stderr.startswith(f"wirelab {cmd}: error:")
    assert p.stdout == ""


def test_no_file_given():
    p = run("summary", check=False)
    assert p.returncode != 0 and "no capture file" in p.stderr


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.live
@pytest.mark.skipif(shutil.which("tcpdump") is None or os.geteuid() != 0, reason="needs tcpdump + root")
def test_real_loopback_lenmsg(tmp_path):
    """A real lenmsg echo over loopback, captured with tcpdump -U, analysed end to end."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    pcap = tmp_path / "live.pcap"
    dump = subprocess.Popen(["tcpdump", "-U", "-Z", "root", "-i", "lo", "-w", str(pcap), "-s", "0",
                             f"tcp port {port}"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        line = b""
        while b"listening" not in line and time.time() < deadline:
            line = dump.stderr.readline()
        time.sleep(0.3)
        payloads = [b"hello", b"x" * 3000, b"", b"last one"]

        def serve():
            conn, _ = srv.accept()
            buf = b""
            with conn:
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    while len(buf) >= 4 and len(buf) >= 4 + struct.unpack("!I", buf[:4])[0]:
                        n = struct.unpack("!I", buf[:4])[0]
                        conn.sendall(lenmsg(buf[4:4 + n].upper()))
                        buf = buf[4 + n:]
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        cli = socket.create_connection(("127.0.0.1", port), timeout=5)
        for p in payloads:
            cli.sendall(lenmsg(p))
            want = len(p) + 4
            got = b""
            while len(got) < want:
                got += cli.recv(65536)
        cli.close()
        t.join(5)
        time.sleep(0.8)
    finally:
        dump.terminate()
        dump.wait(10)
        srv.close()
    out = json.loads(run("summary", str(pcap), "--json", "--decode-as", f"{port}=lenmsg").stdout)
    convs = out["conversations"]
    assert len(convs) == 1
    conv = convs[0]
    assert conv["handshake"]["complete"] is True
    assert conv["protocol"] == "lenmsg"
    got = [(m["direction"], m["length"]) for m in conv["messages"]]
    want = []
    for p in payloads:
        want += [("c2s", len(p) + 4), ("s2c", len(p) + 4)]
    assert sorted(got) == sorted(want)
    assert not conv["malformed"]
    # tshark agrees on the number of packets and the stream
    if shutil.which("tshark"):
        t = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-e", "tcp.stream"],
                           capture_output=True, text=True, timeout=60)
        assert len(t.stdout.split()) == out["packets"]
        assert set(t.stdout.split()) == {"0"}
        # the TCP part of our Info column reads like tshark's (relative seq, scaled window,
        # options) on the packets that carry no message
        info = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-e", "_ws.col.Info"],
                              capture_output=True, text=True, timeout=60).stdout.splitlines()
        ours = run("packets", str(pcap)).stdout.splitlines()
        compared = 0
        for theirs, line in zip(info, ours):
            if " TCP " in line and theirs[:1].isdigit():
                assert line.split(" TCP ", 1)[1].split(None, 1)[1] == theirs
                compared += 1
        assert compared >= 5


def test_message_text_and_display_filter(sticky):
    out = json.loads(run("summary", sticky, "--json", "--message-text").stdout)
    assert [m["summary"] for m in out["conversations"][0]["messages"]] == [
        "len=3 'one'", "len=3 'two'", "len=5 'three'", "len=3 'ONE'"]
    pytest.importorskip("analyzer.filters.display_filter")
    lines = run("packets", sticky, "-Y", "tcp.flags.syn == 1").stdout.splitlines()
    assert len(lines) == 2 and "[SYN]" in lines[0] and "[SYN, ACK]" in lines[1]
    bad = run("packets", sticky, "-Y", "tcp.port ==", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_dask_summary_and_split_files_equal_one_process(tmp_path):
    """`--dask local:2` gives exactly the one-process JSON, for one file, for a directory of
    files, and for files named in any order (this capture is not in time order: the UDP
    datagrams sit among later TCP packets, so merging by time renumbers them, the same way in
    one process and on Dask, whatever order the files are named in)."""
    from scapy.all import IP, UDP, Ether, wrpcap
    pkts = []
    for k in range(6):                           # ports 40000/40001 reused twice each
        c = Conn(cport=40000 + k % 2, c_isn=1000 + 7919 * k).handshake()
        c.t += k
        c.send(0, lenmsg(b"q%d" % k) * 3, sizes=[5, 10, 3]).send(1, lenmsg(b"A" * k)).fin()
        pkts += c.pkts
    for k in range(3):
        p = Ether() / IP(src="127.0.0.1", dst="127.0.0.2") / UDP(sport=5000 + k, dport=9005) / b"hi"
        p.time = 1700000000.5 + k
        pkts.insert(4 * k + 1, p)
    path = write(tmp_path / "par.pcap", pkts)
    seq = json.loads(run("summary", path, "--json").stdout)
    par = json.loads(run("summary", path, "--json", "--dask", "local:2").stdout)
    assert par == seq
    ring = tmp_path / "ring"
    ring.mkdir()
    for k, cut in enumerate((0, 17, 40, len(pkts))[:-1]):
        wrpcap(str(ring / f"r{k}.pcap"), pkts[cut:(17, 40, len(pkts))[k]])
    results = []
    for args in ([str(ring)], [str(ring / "r2.pcap"), str(ring / "r0.pcap"), str(ring / "r1.pcap")]):
        merged = json.loads(run("summary", *args, "--json").stdout)
        on_dask = json.loads(run("summary", *args, "--json", "--dask", "local:2").stdout)
        assert merged == on_dask
        merged.pop("file")
        results.append(merged)
    assert results[0] == results[1] and results[0]["packets"] == seq["packets"]
    assert [(c["transport"], c["id"]) for c in seq["conversations"]][:3] == [
        ("tcp", 0), ("udp", 0), ("udp", 1)]
    assert len(seq["conversations"]) == 9
    bad = run("summary", "/nonexistent.pcap", "--json", "--dask", "local:2", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
