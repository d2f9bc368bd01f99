"""`wirelab verify`: wirelab and tshark agree on real and crafted captures; differences print."""
from __future__ import annotations

import os
import tempfile

import pytest

from analyzer.engine import analyze_file
from analyzer.wireshark import verify
from tests.wireshark.conftest import BUNDLED, bundled_decode_as, wirelab


def test_verify_agrees_on_live_loopback_traffic(live_capture):
    path, decode_as = live_capture
    args = ["verify", path, "--messages"]
    for port, proto in decode_as.items():
        args += ["--decode-as", f"{port}={proto}"]
    out = wirelab(*args)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("agree: ")
    assert "6 tcp + 1 udp conversations" in lines[0]


def test_verify_compares_real_handshakes_and_teardowns(live_capture):
    path, decode_as = live_capture
    result = verify.verify_file(path, decode_as=decode_as)
    assert result.agree, result.disagreements
    ts = result.tshark
    assert len(ts.handshake) == 6 and all(len(f) == 3 for f in ts.handshake.values())
    assert all(len(f) >= 2 for f in ts.teardown.values())          # a FIN from each side
    assert {k[0] for k in ts.endpoints} == {"tcp", "udp"}
    assert ts.conversation_packets() == ts.packets                 # every packet compared


@pytest.mark.parametrize("name, expected", [
    ("retransmission", {"retransmission"}),
    ("out_of_order", {"lost_segment", "out_of_order"}),
    ("fast_retransmission", {"lost_segment", "duplicate_ack", "fast_retransmission"}),
    ("window_keepalive_wrap_reuse", {"zero_window", "zero_window_probe", "zero_window_probe_ack",
                                     "window_update",
                                     "keep_alive", "keep_alive_ack", "spurious_retransmission",
                                     "duplicate_ack", "reused_ports"}),
])
def test_verify_agrees_on_retransmissions_and_reordering(crafted_captures, name, expected):
    result = verify.verify_file(crafted_captures[name])
    assert result.agree, "\n".join(result.disagreements)
    found = set().union(*result.tshark.analysis.values())
    assert expected <= found                                     # the phenomenon is there
    out = wirelab("verify", crafted_captures[name])
    assert out.returncode == 0 and out.stdout.startswith("agree: ")


def test_verify_agrees_on_real_kernel_retransmissions(lossy_capture):
    """A bulk transfer through a rate-limited tiny-queue lo (private namespace): real drops."""
    path, decode_as = lossy_capture
    result = verify.verify_file(path, decode_as=decode_as)
    assert result.agree, "\n".join(result.disagreements[:50])
    flags = [f for names in result.tshark.analysis.values() for f in names]
    assert "lost_segment" in flags and "duplicate_ack" in flags
    assert len(flags) > 20


def test_verify_sets_loopback_twins_aside(live_capture, tmp_path):
    """The real capture as a Linux cooked capture of lo shows it: every packet twice, the
    outgoing copy then the incoming one."""
    from scapy.all import rdpcap

    from tests.engine.craft import write_cooked

    pkts = rdpcap(live_capture[0])
    path = write_cooked(tmp_path / "twins.pcap", pkts)
    result = verify.verify_file(path, decode_as=live_capture[1])
    assert result.agree, "\n".join(result.disagreements[:20])
    wl, ts = result.wirelab, result.tshark
    twins = sorted(wl.skip_analysis)
    assert twins == list(range(2, 2 * len(pkts) + 1, 2))
    conv = [n for n in twins if wl.stream(n)]
    assert conv and all(wl.stream(n) == ts.stream(n) == wl.stream(n - 1) for n in conv)
    assert any(n in ts.analysis for n in twins)      # tshark flags the copies; set aside


def test_verify_counts_identical_frames_on_ethernet(tmp_path):
    """Three identical duplicate ACKs 1 ms apart on Ethernet, then a fast retransmission:
    nothing is set aside and the flags are tshark's."""
    from tests.engine.craft import Conn, write

    c = Conn(client="10.0.0.1", server="10.0.0.2").handshake()
    lost = c.segment(0, b"x" * 100)
    c.send(0, b"y" * 100)
    for _ in range(3):
        c.pkts.append(c._pkt(1, "A", c.seq[1], lost[0].payload.seq))
    c.pkts.append(c.segment(0, b"x" * 100, seq=lost[0].payload.seq))
    result = verify.verify_file(write(tmp_path / "dupack.pcap", c.pkts))
    assert result.agree, result.disagreements
    assert not result.wirelab.skip_analysis
    assert [sorted(result.tshark.analysis.get(n, ())) for n in (5, 6, 7, 8)] == [
        ["duplicate_ack"], ["duplicate_ack"], ["duplicate_ack"],
        ["fast_retransmission", "retransmission"]]


def test_verify_ipv6_icmp_quote_and_arp(crafted_captures):
    """IPv6 endpoints agree; the UDP header quoted in an ICMP error is no conversation."""
    out = wirelab("verify", crafted_captures["ipv6_icmp_arp"], "--messages")
    assert out.returncode == 0, out.stdout
    assert out.stdout.startswith("agree: 8 packets, 1 tcp + 1 udp conversations")
    assert out.stdout.splitlines()[1] == ("tshark: 1 packet quotes a header inside an ICMP "
                                          "error: not conversation packets (tshark opened udp "
                                          "stream 1 for them alone)")
    result = verify.verify_file(crafted_captures["ipv6_icmp_arp"])
    assert result.tshark.endpoints[("tcp", 0)] == frozenset({"[::1]:40100", "[::1]:9001"})
    assert result.tshark.teardown[0] == [5]                        # the RST of an abort


def test_verify_prints_every_disagreement_and_exits_1(crafted_captures):
    """tshark with sequence analysis switched off: its flags vanish, wirelab's stay."""
    path = crafted_captures["fast_retransmission"]
    out = wirelab("verify", path, "--tshark-option", "tcp.analyze_sequence_numbers:FALSE")
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[-1] == f"{len(lines) - 1} disagreements"
    assert any(line.startswith("frame ") and "analysis: tshark [], wirelab [" in line
               and "fast_retransmission" in line for line in lines)


def test_verify_json_output(crafted_captures):
    import json

    path = crafted_captures["fast_retransmission"]
    good = wirelab("verify", path, "--json", "--messages")
    assert good.returncode == 0
    obj = json.loads(good.stdout)
    assert obj["agree"] is True and obj["disagreements"] == [] and obj["packets"] == 16
    assert obj["messages"]["compared"] == 5 and obj["analysis_flags"] >= 5
    bad = wirelab("verify", path, "--json", "--tshark-option", "tcp.analyze_sequence_numbers:FALSE")
    assert bad.returncode == 1
    obj = json.loads(bad.stdout)
    assert obj["agree"] is False and len(obj["disagreements"]) == 5 + 4   # packets + counts
    assert "tcp stream 0: duplicate_ack count: tshark 0, wirelab 3" in obj["disagreements"]


def test_disagreements_between_two_real_captures(live_capture, crafted_captures):
    """The library API compares wirelab on one capture with tshark on another."""
    eng = analyze_file(live_capture[0], decode_as=live_capture[1])
    try:
        wl = verify.wirelab_facts(eng)
    finally:
        eng.close()
    ts = verify.tshark_facts(crafted_captures["retransmission"])
    lines = verify.compare(wl, ts)
    assert f"packets: tshark {ts.packets}, wirelab {wl.packets}" in lines
    assert "tcp conversations: tshark 1, wirelab 6" in lines
    assert "udp conversations: tshark 0, wirelab 1" in lines
    assert any(line.startswith("tcp stream 0: handshake frames: ") for line in lines) or \
        wl.handshake[0] == ts.handshake[0]
    assert any(": analysis: tshark [retransmission], wirelab []" in line for line in lines)


def test_verify_pcapng_and_truncated_copies(live_capture, tmp_path):
    """The same real traffic as pcapng, and cut inside its last packet: still agree."""
    import subprocess

    path = live_capture[0]
    ng = str(tmp_path / "live.pcapng")
    subprocess.run(["editcap", "-F", "pcapng", path, ng], check=True, capture_output=True)
    full = verify.verify_file(ng)
    assert full.agree, full.disagreements
    data = open(path, "rb").read()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-30])
    out = wirelab("verify", str(cut))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith(f"agree: {full.tshark.packets - 1} packets")
    assert "warning (tshark)" in out.stderr and "cut short" in out.stderr


def test_verify_missing_file_is_one_line_error(tmp_path):
    out = wirelab("verify", str(tmp_path / "nope.pcap"))
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "no such file" in out.stderr


def test_verify_bad_capture_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture at all")
    out = wirelab("verify", str(bad))
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "Traceback" not in out.stderr


def test_verify_without_tshark_is_one_line_error(crafted_captures, monkeypatch):
    monkeypatch.setenv("WIRELAB_TSHARK", "/nonexistent/tshark")
    out = wirelab("verify", crafted_captures["retransmission"])
    assert out.returncode == 2
    assert "WIRELAB_TSHARK" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.skipif(not BUNDLED, reason="no bundled captures yet")
@pytest.mark.parametrize("path", BUNDLED, ids=[os.path.basename(p) for p in BUNDLED])
def test_verify_agrees_on_bundled_captures(path):
    result = verify.verify_file(path, decode_as=bundled_decode_as(path))
    assert result.agree, "\n".join(result.disagreements)
    assert result.tshark.packets > 0 and result.tshark.endpoints


def test_verify_merges_several_files_and_leaves_nothing(tmp_path):
    """Several files (or a directory) are merged with mergecap into a temporary file that
    both tools read; it is gone afterwards."""
    import struct
    import subprocess
    import sys
    data = open(os.path.join(os.path.dirname(__file__), "..", "..", "captures",
                             "concurrent.pcap"), "rb").read()
    head, pos, recs = data[:24], 24, []
    while pos + 16 <= len(data):
        n = struct.unpack_from("<I", data, pos + 8)[0]
        recs.append(data[pos:pos + 16 + n])
        pos += 16 + n
    ring = tmp_path / "ring"
    ring.mkdir()
    for k in range(3):
        (ring / f"part{k}.pcap").write_bytes(head + b"".join(recs[k * 30:(k + 1) * 30]))
    before = set(os.listdir(tempfile.gettempdir()))
    out = subprocess.run([sys.executable, "-m", "analyzer", "verify", str(ring)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith(f"agree: {len(recs)} packets")
    assert not {n for n in set(os.listdir(tempfile.gettempdir())) - before
                if n.startswith("wirelab-verify-")}


def test_verify_handshake_client_is_the_first_syn_sender(tmp_path):
    """A pure SYN sent back by the server (a simultaneous open) does not make the server the
    client: the handshake is the client's SYN, the SYN-ACK, the client's ACK, for tshark's
    side of verify as for wirelab's."""
    from tests.transport.helpers import Crafter

    k = Crafter()
    c, s = ("127.0.0.1", 30002), ("127.0.0.1", 9001)
    k.tcp(c, s, "S", 1000, 0)
    k.tcp(s, c, "S", 5000, 0)
    k.tcp(s, c, "SA", 5000, 1001)
    k.tcp(c, s, "A", 1001, 5001)
    k.tcp(c, s, "PA", 1001, 5001, b"\x00\x00\x00\x02hi")
    result = verify.verify_file(k.write(tmp_path / "simultaneous.pcap"))
    assert result.tshark.handshake[0] == result.wirelab.handshake[0] == [1, 3, 4]
    assert result.agree, result.disagreements


def test_verify_messages_agree_on_data_after_fin(tmp_path):
    """A client that sends a lenmsg message after its own FIN: the text after the FIN is not
    part of the stream, for wirelab as for tshark's reassembly (no message is cut from it)."""
    import random

    from tests.engine.test_packed_conversations import closing
    from tests.transport.helpers import Crafter

    k = Crafter()
    closing(k, random.Random(1), 40000, late=0.3)          # data after the close
    closing(k, random.Random(2), 40001, late=1.0)          # a clean close beside it
    path = k.write(tmp_path / "after-fin.pcap")
    out = wirelab("verify", path, "--messages")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "agree:" in out.stdout and " 6 messages" in out.stdout
