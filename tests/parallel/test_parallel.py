"""`summary --json --jobs N` (analyzer.parallel) gives the very same JSON as one process."""
from __future__ import annotations

import glob
import io
import json
import os
import signal
import struct
import subprocess
import sys
import time

import pytest

from analyzer import parallel
from analyzer.engine import analyze_file
from analyzer.render.summary_json import conversation_json, write_summary_json

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = sorted(glob.glob(os.path.join(ROOT, "captures", "*.pcap")))


def single_json(path, summaries=False, limit=None) -> dict:
    eng = analyze_file(path, limit=limit)
    buf = io.StringIO()
    write_summary_json(eng, buf, summaries=summaries)
    eng.close()
    return json.loads(buf.getvalue())


def parallel_json(path, jobs, summaries=False, limit=None) -> tuple[dict, dict]:
    from analyzer.sources import sidecar as appio
    buf = io.StringIO()
    info = parallel.write_summary_parallel(path, buf, jobs, limit=limit, summaries=summaries,
                                           sidecar=appio.load_beside(path))
    return json.loads(buf.getvalue()), info


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "analyzer", "summary", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)


@pytest.fixture(scope="module")
def capture_50k(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("gen") / "gen50k.pcap")
    subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gen_capture.py"),
                    "-n", "50000", "-o", path], check=True, capture_output=True, timeout=60)
    return path


@pytest.mark.parametrize("path", CAPTURES, ids=os.path.basename)
def test_bundled_captures_same_json(path):
    want = single_json(path)
    assert want["packets"] > 0
    for jobs in (2, 3):
        got, info = parallel_json(path, jobs)
        assert got == want, f"--jobs {jobs} differs on {path}"
        assert sum(p["packets_fed"] for p in info["processes"]) == want["packets"]


def test_message_text_same_json():
    path = os.path.join(ROOT, "captures", "concurrent.pcap")
    want = single_json(path, summaries=True)
    assert any(m.get("summary") for c in want["conversations"] for m in c["messages"])
    got, _info = parallel_json(path, 3, summaries=True)
    assert got == want


@pytest.mark.slow
def test_generated_50k_same_bytes_and_split(capture_50k):
    """The CLI with --jobs 1, 2, 3: byte-identical output; each part did real work."""
    outs = {}
    for jobs in (1, 2, 3):
        r = cli("--json", "--jobs", str(jobs), capture_50k)
        assert r.returncode == 0, r.stderr
        outs[jobs] = r.stdout
    assert outs[1] == outs[2] == outs[3]
    doc = json.loads(outs[1])
    assert doc["packets"] > 50000 and len(doc["conversations"]) > 400
    assert [c["id"] for c in doc["conversations"]] == list(range(len(doc["conversations"])))
    _got, info = parallel_json(capture_50k, 3)
    fed = [p["packets_fed"] for p in info["processes"]]
    assert sum(fed) == doc["packets"] and min(fed) > doc["packets"] // 10


def test_count_limit(capture_50k):
    want = single_json(capture_50k, limit=1234)
    got, _info = parallel_json(capture_50k, 2, limit=1234)
    assert got == want and got["packets"] == 1234


# -- loopback twins: global adjacency ----------------------------------------------------------
def _frame(sport: int, dport: int, seq: int, flags: int, payload: bytes = b"", ipid: int = 1):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65000, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), ipid, 0x4000, 64,
                     6, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    return bytes(12) + b"\x08\x00" + ip + tcp + payload


def _write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, 100 + i, len(fr), len(fr)) + fr)


def _ports_in_parts(jobs: int) -> tuple[int, int]:
    """Two client ports (server 9001) whose conversations land in different parts."""
    first = None
    for port in range(40000, 40100):
        part = parallel.partition(1, _frame(port, 9001, 1, 0x18), 0, jobs)
        if first is None:
            first = (port, part)
        elif part != first[1]:
            return first[0], port
    raise AssertionError("no two ports in different parts")


def test_loopback_twin_only_of_the_previous_packet(tmp_path):
    a, b = _ports_in_parts(2)
    x1 = _frame(a, 9001, 1000, 0x18, b"\x00\x00\x00\x01x")
    y1 = _frame(b, 9001, 5000, 0x18, b"\x00\x00\x00\x01y")
    frames = [x1, y1, x1,            # x1 again after y1: a retransmission, not a twin
              x1, x1, x1,            # twin of packet 3; a third copy (not a twin); twin of 5
              y1, _frame(a, 9001, 1005, 0x10)]
    path = str(tmp_path / "twins.pcap")
    _write_pcap(path, frames)
    want = single_json(path)
    assert want["loopback_duplicates"] == 2
    for jobs in (2, 3):
        got, info = parallel_json(path, jobs)
        assert got == want
        if jobs == 2:
            assert all(p["packets_fed"] for p in info["processes"])


# -- partitioning ------------------------------------------------------------------------------
def test_fast_peek_agrees_with_decode_and_is_symmetric():
    for sport, dport in ((40000, 9001), (9001, 40000), (5353, 53), (1, 65535)):
        for jobs in (2, 3, 4):
            f = _frame(sport, dport, 7, 0x02)
            r = _frame(dport, sport, 9, 0x12)
            assert parallel.partition(1, f, 0, jobs) == parallel.partition(1, r, 0, jobs)
            key = parallel.slow_key(1, f, len(f))
            assert key is not None
            assert parallel.part_of_key(key, jobs) == parallel.partition(1, f, 0, jobs)
    assert parallel.partition(1, bytes(12) + b"\x08\x06" + bytes(28), 0, 3) == 0   # ARP


# -- errors --------------------------------------------------------------------------------------
def test_bad_file_one_line(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a capture at all" * 10)
    for args in (("--json", "--jobs", "2", str(bad)),
                 ("--json", "--jobs", "2", str(tmp_path / "missing.pcap")),
                 ("--json", "--jobs", "0", os.path.join(ROOT, "captures", "handshake.pcap"))):
        r = cli(*args)
        assert r.returncode != 0
        assert r.stdout == ""
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr


def test_worker_crash_falls_back(capture_50k, monkeypatch):
    """A failing worker: ParallelFailed (nothing written) ... and the CLI falls back."""
    real = parallel._analyze_part

    def crash_in_child(path, part, *a, **k):
        if part:
            raise RuntimeError("boom")
        return real(path, part, *a, **k)
    monkeypatch.setattr(parallel, "_analyze_part", crash_in_child)
    buf = io.StringIO()
    with pytest.raises(parallel.ParallelFailed, match="worker 1 RuntimeError: boom"):
        parallel.write_summary_parallel(capture_50k, buf, 2)
    assert buf.getvalue() == ""
    from analyzer.commands import summary
    from analyzer.cli import build_parser
    args = build_parser("summary").parse_args(["summary", "--json", "--jobs", "2", capture_50k])
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert summary.run(args) == 0
    assert "parallel analysis failed" in err.getvalue() and "Traceback" not in err.getvalue()
    assert json.loads(out.getvalue()) == single_json(capture_50k)


def _children(pid: int) -> set[int]:
    out = set()
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            out |= {int(x) for x in open(task).read().split()}
        except OSError:
            pass
    return out


@pytest.mark.parametrize("how", ["ctrl_c", "sigterm"])
def test_interrupt_leaves_no_workers(tmp_path, how):
    """Ctrl-C (SIGINT to the whole foreground group) or a plain `kill` of the parent."""
    path = str(tmp_path / "big.pcap")
    subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gen_capture.py"),
                    "-n", "300000", "-o", path], check=True, capture_output=True, timeout=60)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = dict(os.environ, TMPDIR=str(tmpdir))
    p = subprocess.Popen([sys.executable, "-m", "analyzer", "summary", "--json", "--jobs", "3",
                          path], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    kids: set[int] = set()
    deadline = time.monotonic() + 30
    while len(kids) < 2 and time.monotonic() < deadline and p.poll() is None:
        kids = _children(p.pid)
        time.sleep(0.05)
    assert len(kids) == 2, "workers never started"
    if how == "ctrl_c":
        os.killpg(p.pid, signal.SIGINT)        # Ctrl-C goes to the whole foreground group
    else:
        os.kill(p.pid, signal.SIGTERM)
    err = p.communicate(timeout=30)[1].decode()
    assert p.returncode != 0
    assert "Traceback" not in err, err
    for pid in kids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert list(tmpdir.iterdir()) == []


# -- damaged files: the parts read exactly what one process reads (same warnings) ---------------
def _damaged(tmp_path, name, cut=None, bad_caplen_at=None) -> str:
    data = bytearray(open(os.path.join(ROOT, "captures", "concurrent.pcap"), "rb").read())
    if bad_caplen_at is not None:
        pos, k = 24, 0
        while k < bad_caplen_at:
            pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
            k += 1
        struct.pack_into("<I", data, pos + 8, 10_000_000)
    if cut is not None:
        data = data[:cut]
    path = str(tmp_path / name)
    open(path, "wb").write(bytes(data))
    return path


@pytest.mark.parametrize("kind", ["truncated_body", "truncated_header", "corrupt_caplen"])
def test_damaged_capture_same_json_and_warnings(tmp_path, kind):
    size = os.path.getsize(os.path.join(ROOT, "captures", "concurrent.pcap"))
    path = {"truncated_body": lambda: _damaged(tmp_path, "a.pcap", cut=size - 7),
            "truncated_header": lambda: _damaged(tmp_path, "b.pcap"),
            "corrupt_caplen": lambda: _damaged(tmp_path, "c.pcap", bad_caplen_at=25)}[kind]()
    if kind == "truncated_header":       # complete file + 7 bytes of a next record header
        with open(path, "ab") as f:
            f.write(b"\x01" * 7)
    want = single_json(path)
    assert want["warnings"], want["warnings"]
    for jobs in (2, 3):
        got, _info = parallel_json(path, jobs)
        assert got == want
    # -c exactly the complete records: the reader still reaches the damage (same warnings)
    lim = want["packets"]
    assert parallel_json(path, 2, limit=lim)[0] == single_json(path, limit=lim)
    assert parallel_json(path, 2, limit=lim - 1)[0] == single_json(path, limit=lim - 1)


@pytest.mark.skipif(not __import__("shutil").which("editcap"), reason="editcap not installed")
def test_pcapng_same_json(tmp_path):
    """pcapng goes through the source's own iterator (every record peeked at)."""
    path = str(tmp_path / "concurrent.pcapng")
    subprocess.run(["editcap", "-F", "pcapng", os.path.join(ROOT, "captures", "concurrent.pcap"),
                    path], check=True, capture_output=True, timeout=60)
    want = single_json(path)
    assert want["packets"] > 0
    for jobs in (2, 3):
        assert parallel_json(path, jobs)[0] == want


def test_view_only_columns_recognised():
    """A part's engine (Engine(summary_only=True)) skips the 5 per-packet columns only views
    read (memory target) and keeps the others; the JSON stays the same."""
    from analyzer.engine import analyze_file, Engine, open_source
    path = os.path.join(ROOT, "captures", "handshake.pcap")
    eng = Engine(source_path=path, summary_only=True)
    for rec in open_source(path):
        eng.feed(rec)
    eng.finish()
    n = eng.packet_count
    assert n > 0 and len(eng.index.ts) == n and len(eng.index.analysis) == n
    for col in (eng.index.tcp_flags, eng.index.payload_len, eng.index.stream,
                eng.index.direction, eng.flow_kind):
        assert len(col) == 0
    whole = analyze_file(path)
    assert conversation_json(eng, eng.conversations[0]) == \
        conversation_json(whole, whole.conversations[0])
    want = single_json(path)
    assert parallel_json(path, 2)[0] == want


def test_ipv6_udp_and_cooked_same_json(tmp_path):
    """The slow partition path (IPv6, Linux cooked link layer, UDP, ARP) keeps every
    conversation in one part and gives the same JSON."""
    from scapy.layers.inet import TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import ARP, CookedLinux, Ether
    from scapy.utils import wrpcap

    def convo(sport, base):
        c, s = "::1", "::1"
        return [IPv6(src=c, dst=s) / TCP(sport=sport, dport=9001, flags="S", seq=base),
                IPv6(src=s, dst=c) / TCP(sport=9001, dport=sport, flags="SA", seq=7, ack=base + 1),
                IPv6(src=c, dst=s) / TCP(sport=sport, dport=9001, flags="A", seq=base + 1, ack=8),
                IPv6(src=c, dst=s) / TCP(sport=sport, dport=9001, flags="PA", seq=base + 1,
                                         ack=8) / (b"\x00\x00\x00\x02hi" * 2),
                IPv6(src=s, dst=c) / TCP(sport=9001, dport=sport, flags="A", seq=8, ack=base + 13)]
    flows = [convo(41000 + i, 1000 * i) for i in range(8)]
    pkts = []
    for step in range(5):                       # interleaved conversations
        for f in flows:
            pkts.append(f[step])
    pkts.insert(3, IPv6(src="::1", dst="::1") / UDP(sport=5000, dport=5001) / b"ping")
    pkts.insert(9, IPv6(src="::1", dst="::1") / UDP(sport=5001, dport=5000) / b"pong")
    eth = [Ether() / p for p in pkts] + [Ether() / ARP()]
    for i, p in enumerate(eth):
        p.time = 1700000000 + i * 0.01
    path6 = str(tmp_path / "v6.pcap")
    wrpcap(path6, eth)
    cooked = []
    for i, p in enumerate(pkts):
        for k in range(2 if i % 5 == 0 else 1):   # some outgoing+incoming loopback twins
            q = CookedLinux(pkttype=4 if k == 0 else 0, proto=0x86DD) / p
            q.time = 1700000000 + i * 0.01 + k * 0.0001
            cooked.append(q)
    pathc = str(tmp_path / "cooked.pcap")
    wrpcap(pathc, cooked)
    for path in (path6, pathc):
        want = single_json(path)
        assert len(want["conversations"]) == 9
        for jobs in (2, 3):
            got, info = parallel_json(path, jobs)
            assert got == want
            assert sum(1 for p in info["processes"] if p["packets_fed"]) >= 2
    assert single_json(pathc)["loopback_duplicates"] > 0


def test_cli_options_pass_through(capture_50k):
    """-r, -c, --decode-as and --no-sidecar mean the same with --jobs 2 as with --jobs 1."""
    common = ["--json", "-c", "20000", "--decode-as", "9001=lenmsg", "--no-sidecar",
              "-r", capture_50k]
    one = cli(*common, "--jobs", "1")
    two = cli(*common, "--jobs", "2")
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert one.stdout == two.stdout
    doc = json.loads(two.stdout)
    assert doc["packets"] == 20000 and doc["conversations"][0]["protocol"] == "lenmsg"


def test_parent_part_failure_reaps_workers(capture_50k, monkeypatch, tmp_path):
    real = parallel._analyze_part

    def crash_in_parent(path, part, *a, **k):
        if part == 0:
            raise MemoryError("pretend")
        return real(path, part, *a, **k)
    monkeypatch.setattr(parallel, "_analyze_part", crash_in_parent)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    before = _children(os.getpid())
    with pytest.raises(parallel.ParallelFailed, match="part 0 MemoryError"):
        parallel.write_summary_parallel(capture_50k, io.StringIO(), 3)
    assert _children(os.getpid()) == before           # workers killed and reaped
    assert list(tmp_path.iterdir()) == []             # temp files removed
