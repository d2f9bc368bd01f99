"""`verify` reads tshark's stream ids as its conversation tables count: innermost header,
ICMP-quoted headers and dissector-opened conversations apart (named, not disagreements)."""
from __future__ import annotations

import pytest
from scapy.all import GRE, ICMP, IP, TCP, UDP, Ether, IPv6, wrpcap
from scapy.layers.vxlan import VXLAN

from analyzer.wireshark import verify
from analyzer.wireshark.tshark_streams import innermost
from tests.wireshark.conftest import wirelab


def _write(path, pkts) -> str:
    t = 1_700_000_000.0
    out = []
    for p in pkts:
        t += 0.01
        p = Ether(src="00:00:00:00:00:01", dst="00:00:00:00:00:02") / p
        p.time = t
        out.append(p)
    wrpcap(str(path), out)
    return str(path)


def _udp(a, b, sport, dport, data=b"x"):
    return IP(src=a, dst=b) / UDP(sport=sport, dport=dport) / data


@pytest.mark.parametrize("protocols, tcp, udp, expected", [
    ("eth:ethertype:ip:tcp", "4", "", ("tcp", 4, [], "ip", False, "tcp")),
    ("eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:udp:data", "", "2,3",
     ("udp", 3, [("udp", 2)], "ip", False, "data")),
    ("eth:ethertype:ip:ipv6:tcp", "0", "", ("tcp", 0, [], "ipv6", False, "tcp")),
    ("eth:ethertype:ip:icmp:ip:udp", "", "1", ("udp", 1, [], "ip", True, "udp")),
    ("eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp:http", "7", "1",
     ("tcp", 7, [("udp", 1)], "ip", False, "http")),
    ("eth:ethertype:arp", "", "", None),
])
def test_innermost_header_of_a_tshark_row(protocols, tcp, udp, expected):
    layer = innermost(protocols, tcp, udp)
    got = None if layer is None else (layer.transport, layer.stream, layer.outer, layer.ip,
                                      layer.quoted, layer.above)
    assert got == expected


def test_icmp_quoted_headers_are_no_conversation_and_shift_nothing(tmp_path):
    """tshark gives a header quoted in an ICMP error a stream id of its own when it never
    saw that conversation; its conv tables do not count it, nor does wirelab."""
    path = _write(tmp_path / "icmp.pcap", [
        _udp("10.0.0.1", "10.0.0.2", 1111, 53),
        IP(src="10.0.0.9", dst="10.0.0.1") / ICMP(type=3, code=3)
        / _udp("10.0.0.1", "10.0.0.9", 2222, 5555),
        IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(type=3, code=3)
        / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=7777, dport=80, flags="S"),
        _udp("10.0.0.1", "10.0.0.2", 1112, 53),
        IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=7778, dport=80, flags="S"),
    ])
    result = verify.verify_file(path)
    assert result.agree, result.disagreements
    ts = result.tshark
    assert ts.stream(4) == ("udp", 1) and ts.stream(5) == ("tcp", 0)   # tshark: 2 and 1
    assert ts.stream(2) is None and ts.stream(3) is None
    assert ts.notes == ["tshark: 2 packets quote a header inside an ICMP error: not "
                        "conversation packets (tshark opened tcp stream 0, udp stream 1 for "
                        "them alone)"]


def test_conversation_a_dissector_opened_is_named_not_counted(tmp_path):
    """SIP/SDP announces a T.38 port: tshark numbers every peer of that port as ONE udp
    stream (its conv table lists them apart); later streams would all be off by one."""
    sdp = ("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
           "m=image 20000 udptl t38\r\na=T38FaxVersion:0\r\n")
    sip = ("INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
           "From: <sip:a@10.0.0.1>;tag=1\r\nTo: <sip:b@10.0.0.2>\r\nCall-ID: 1@x\r\n"
           "CSeq: 1 INVITE\r\nContact: <sip:a@10.0.0.1>\r\nContent-Type: application/sdp\r\n"
           f"Content-Length: {len(sdp)}\r\n\r\n{sdp}")
    udptl = bytes([0, 0, 1, 0, 0])
    path = _write(tmp_path / "t38.pcap", [
        _udp("10.0.0.1", "10.0.0.2", 5060, 5060, sip.encode()),
        _udp("10.0.0.2", "10.0.0.1", 30000, 20000, udptl),
        _udp("10.0.0.3", "10.0.0.1", 30001, 20000, udptl),
        _udp("10.0.0.1", "10.0.0.2", 20000, 30000, udptl),
        _udp("10.0.0.7", "10.0.0.8", 1000, 2000),
    ])
    out = wirelab("verify", path)
    assert out.returncode == 0, out.stdout
    assert out.stdout.splitlines() == [
        "agree: 5 packets, 0 tcp + 4 udp conversations, 0 analysis flags",
        "tshark: 3 packets in conversations its dissectors opened (t38): analysis not "
        "compared, numbered by endpoints"]
    ts = verify.verify_file(path).tshark
    assert [ts.stream(n) for n in range(1, 6)] == [("udp", 0), ("udp", 1), ("udp", 2),
                                                   ("udp", 1), ("udp", 3)]
    assert ts.skip_analysis == {2, 3, 4}


def test_tshark_facts_take_the_innermost_header_of_tunnels(tmp_path):
    """IP-in-IP, GRE (Ethernet), 6in4 and VXLAN: endpoints of the inner headers, the VXLAN
    outer stream named as a tunnel and not counted."""
    path = _write(tmp_path / "tunnels.pcap", [
        IP(src="1.1.1.1", dst="2.2.2.2") / IP(src="10.1.0.1", dst="10.1.0.2")
        / TCP(sport=3333, dport=80, flags="S"),
        IP(src="1.1.1.1", dst="2.2.2.2") / GRE(proto=0x6558) / Ether()
        / IP(src="10.2.0.1", dst="10.2.0.2") / TCP(sport=4444, dport=80, flags="S"),
        IP(src="1.1.1.1", dst="2.2.2.2") / UDP(sport=49152, dport=4789) / VXLAN(vni=5)
        / Ether() / _udp("10.3.0.1", "10.3.0.2", 5555, 6666),
        IP(src="1.1.1.1", dst="2.2.2.2") / IPv6(src="fd00::1", dst="fd00::2")
        / TCP(sport=8888, dport=80, flags="S"),
        _udp("10.0.0.1", "10.0.0.2", 1112, 53),
    ])
    ts = verify.tshark_facts(path)
    assert ts.endpoints == {
        ("tcp", 0): frozenset({"10.1.0.1:3333", "10.1.0.2:80"}),
        ("tcp", 1): frozenset({"10.2.0.1:4444", "10.2.0.2:80"}),
        ("tcp", 2): frozenset({"[fd00::1]:8888", "[fd00::2]:80"}),
        ("udp", 0): frozenset({"10.3.0.1:5555", "10.3.0.2:6666"}),
        ("udp", 1): frozenset({"10.0.0.1:1112", "10.0.0.2:53"})}
    assert ts.flags(1) == 0x02 and ts.handshake[0] == [1]
    assert ts.notes == ["tshark: outer headers of tunnels only, compared on the inner ones: "
                        "udp stream 0 (vxlan)"]
    result = verify.verify_file(path)            # wirelab decodes to the same inner headers
    assert result.agree, result.disagreements
