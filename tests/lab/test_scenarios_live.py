"""Each lab scenario runs live on loopback (CI runs as root) and its phenomenon is asserted
from the engine's analysis of the capture it wrote."""
import json
import os
import subprocess
import sys

import pytest

from analyzer.sources import sidecar as appio
from analyzer.lab.scenarios import SCENARIOS, run_scenario
from analyzer.sources.live import capture_rights

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not capture_rights(), reason="needs root/CAP_NET_RAW")]


def _run(name, tmp_path, **opts):
    rep = run_scenario(name, str(tmp_path / f"{name}.pcap"), **opts)
    assert os.path.getsize(rep.pcap) > 24
    assert rep.dropped == 0 and rep.captured == rep.packets
    return rep


def test_handshake_every_variant(tmp_path):
    rep = _run("handshake", tmp_path)
    v = rep.facts["variants"]
    assert set(v) == {"client-closes", "server-closes", "closes-at-once", "simultaneous",
                      "half-close", "rst"}
    for name, f in v.items():
        assert f["handshake"]["complete"] and len(f["handshake"]["frames"]) == 3, name
    assert v["client-closes"]["teardown"]["initiator"] == "client"
    assert v["server-closes"]["teardown"]["initiator"] == "server"
    assert v["client-closes"]["teardown"]["kind"] == "four-way"
    assert v["server-closes"]["teardown"]["kind"] == "four-way"
    assert v["closes-at-once"]["teardown"]["kind"] == "fin-ack-piggybacked"
    assert v["simultaneous"]["teardown"]["kind"] == "simultaneous"
    assert v["rst"]["teardown"]["kind"] == "rst" and v["rst"]["state"] == "RSTO"
    assert v["half-close"]["teardown"]["kind"] == "half-close"
    assert v["half-close"]["teardown"]["initiator"] == "client"
    assert rep.ok


FIN, ACK = 0x01, 0x10


def _teardown_wire(pcap: str, cport: int) -> list[tuple[str, int, int]]:
    """(sender, flags, payload length) of every packet of the connection after its last
    data, read from the pcap itself (not from the engine's labels)."""
    from analyzer.decode import decode_frame
    from analyzer.sources.open import open_capture
    pkts = []
    with open_capture(pcap) as src:
        for rec in src:
            d = decode_frame(rec.linktype, rec.data, rec.origlen)
            if d.transport == "tcp" and cport in (d.sport, d.dport):
                pkts.append(("client" if d.sport == cport else "server", d.flags, d.payload_len))
    first_fin = next(i for i, p in enumerate(pkts) if p[1] & FIN)
    return pkts[first_fin:]


def test_handshake_first_case_is_the_four_way_wave(tmp_path):
    """The lecture's picture, packet by packet: FIN, ACK alone, FIN, ACK."""
    rep = _run("handshake", tmp_path, variant="client-closes")
    wire = _teardown_wire(rep.pcap, rep.context["client_ports"]["client-closes"])
    assert len(wire) == 4, wire
    (s1, f1, _), (s2, f2, n2), (s3, f3, _), (s4, f4, n4) = wire
    assert (s1, s2, s3, s4) == ("client", "server", "server", "client")
    assert f1 & FIN and f3 & FIN
    assert f2 & ACK and not f2 & FIN and n2 == 0      # the kernel's ACK of the FIN, alone
    assert f4 & ACK and not f4 & FIN and n4 == 0
    assert rep.facts["variants"]["client-closes"]["teardown_packets"] == [
        "FIN c2s", "ACK s2c", "FIN s2c", "ACK c2s"]


def test_handshake_peer_closing_at_once_gives_three_packets(tmp_path):
    rep = _run("handshake", tmp_path, variant="closes-at-once")
    wire = _teardown_wire(rep.pcap, rep.context["client_ports"]["closes-at-once"])
    assert [(s, bool(f & FIN), bool(f & ACK)) for s, f, _ in wire] == [
        ("client", True, True), ("server", True, True), ("client", False, True)]
    assert "three packets" in " ".join(rep.found)


def test_sticky_sender_nagle_coalesces_nodelay_does_not(tmp_path):
    rep = _run("sticky-sender", tmp_path)
    assert len(rep.facts["nagle"]["coalesced_packets"]) >= 1
    assert rep.facts["nodelay"]["coalesced_packets"] == []
    assert rep.ok


def test_sticky_receiver_two_segments_one_read(tmp_path):
    rep = _run("sticky-receiver", tmp_path)
    assert rep.facts["send_calls"] == [5, 5]
    assert rep.facts["wire_segments"] == [5, 5]
    assert rep.facts["recv_calls"] == [10]
    recs = appio.load_beside(rep.pcap)
    assert any(r.side == "server" and r.op == "recv" and r.length == 10 for r in recs)


def test_bigreply_naive_reads_bleed(tmp_path):
    rep = _run("bigreply", tmp_path)
    from analyzer.lab.scenarios.bigreply import NAMES
    reads = rep.facts["reads"]
    first, second = NAMES[0], NAMES[1]
    assert reads[0]["contains"] == [first] and not reads[0]["bled"]
    assert reads[1]["asked"] == second and first in reads[1]["contains"] and reads[1]["bled"]
    assert rep.facts["bled_reads"] >= 1


def test_framed_recovers_boundaries_exactly(tmp_path):
    rep = _run("framed", tmp_path)
    assert rep.sidecar is None                      # from the wire alone
    assert rep.facts["protocol"] == "lenmsg"
    assert rep.facts["c2s_lengths"] == rep.facts["sent_lengths"]
    assert rep.facts["coalesced_packets"]           # segments still coalesced
    assert rep.ok


def test_filexfer_extracted_file_has_the_same_sha256(tmp_path):
    rep = _run("filexfer", tmp_path)
    assert rep.facts["extracted_sha256"] == rep.facts["original_sha256"]
    assert rep.facts["extracted_size"] == 20_000


def test_auth_accepts_good_rejects_bad_and_verifies(tmp_path):
    rep = _run("auth", tmp_path)
    conns = rep.facts["connections"]
    assert len(conns) == 7
    for c in conns:
        assert c["accepted"] == c["answer_valid"] == (c["answer"] == "good"), c
    assert {c["variant"] for c in conns} == {"md5-hex", "hmac-md5", "hmac-sha256"}
    verdicts = {(c["variant"], c["answer"]): c["verdict"] for c in conns}
    assert verdicts[("hmac-sha256", "replay")] == "replayed"     # the eavesdropper's resend
    assert [v for (_, a), v in verdicts.items() if a == "good"] == ["accepted"] * 3
    assert [v for (_, a), v in verdicts.items() if a == "bad"] == ["rejected"] * 3


def test_concurrent_conversations_kept_apart(tmp_path):
    rep = _run("concurrent", tmp_path, clients=4)
    assert rep.facts["conversations"] == 4
    assert all(c["intact"] for c in rep.facts["per_client"])
    assert len({c["client"] for c in rep.facts["per_client"]}) == 4


def test_udp_keeps_boundaries_tcp_does_not(tmp_path):
    rep = _run("udp-vs-tcp", tmp_path)
    udp, tcp = rep.facts["udp"], rep.facts["tcp"]
    assert udp["one_datagram_each"] and udp["messages"] == 4
    assert udp["recv_calls"] == [6, 6, 6, 6]
    assert len(tcp["recv_calls"]) < 4 and sum(tcp["recv_calls"]) == 24


def test_cli_lab_json_and_list(tmp_path):
    out = subprocess.run([sys.executable, "-m", "analyzer", "lab", "--list"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert [l.split()[0] for l in out.stdout.splitlines()] == list(SCENARIOS)
    pcap = str(tmp_path / "s.pcap")
    out = subprocess.run([sys.executable, "-m", "analyzer", "lab", "sticky-receiver", "-w", pcap,
                          "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert obj["scenario"] == "sticky-receiver" and obj["ok"] and obj["pcap"] == pcap
    assert os.path.exists(pcap + ".appio.jsonl")


def test_cli_lab_text_report(tmp_path):
    out = subprocess.run([sys.executable, "-m", "analyzer", "lab", "udp-vs-tcp", "-w",
                          str(tmp_path / "u.pcap")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for heading in ("What it shows:", "What the analysis found:", "In plain words:"):
        assert heading in out.stdout


@pytest.mark.parametrize("argv,needle", [
    (["lab", "nosuch"], "unknown scenario"),
    (["lab"], "name a scenario"),
    (["lab", "auth", "--variant", "rst"], "--variant is for handshake"),
    (["lab", "auth", "-w", "/nonexistent/dir/x.pcap"], "no such directory"),
])
def test_cli_lab_bad_arguments_one_line(argv, needle):
    out = subprocess.run([sys.executable, "-m", "analyzer", *argv], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(__import__("shutil").which("capsh") is None, reason="capsh not installed")
def test_cli_lab_without_capture_rights_one_line():
    cmd = f"{sys.executable} -m analyzer lab sticky-receiver"
    out = subprocess.run(["capsh", "--drop=cap_net_raw", "--", "-c", cmd], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 3
    assert len(out.stderr.strip().splitlines()) == 1 and "CAP_NET_RAW" in out.stderr
    assert "Traceback" not in out.stderr
