"""Wireshark's dissection of one packet through pyshark, off any running event loop."""
from __future__ import annotations

import asyncio
import threading

import pytest
from scapy.all import ARP, DNS, DNSQR, IP, UDP, Ether, wrpcap

from analyzer.errors import WirelabError
from analyzer.wireshark.pyshark_detail import wireshark_layers


@pytest.fixture(scope="module")
def dns_arp(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("pyshark") / "dns_arp.pcap")
    wrpcap(path, [
        Ether() / IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=40000, dport=53)
        / DNS(rd=1, qd=DNSQR(qname="example.com")),
        Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="127.0.0.1", pdst="127.0.0.2"),
    ])
    return path


def _field(layers, layer_name, field_name):
    for name, fields in layers:
        if name == layer_name:
            return dict(fields).get(field_name)
    return None


def test_dns_packet_layers(dns_arp):
    layers = wireshark_layers(dns_arp, 1)
    names = [name for name, _ in layers]
    assert names[:4] == ["eth", "ip", "udp", "dns"]
    assert _field(layers, "udp", "udp.dstport") == "53"
    assert _field(layers, "dns", "dns.qry.name") == "example.com"
    assert all(isinstance(k, str) and isinstance(v, str) for _, f in layers for k, v in f)


def test_arp_packet_is_the_one_asked_for(dns_arp):
    layers = wireshark_layers(dns_arp, 2)
    assert [name for name, _ in layers] == ["eth", "arp"]
    assert _field(layers, "arp", "arp.dst.proto_ipv4") == "127.0.0.2"


def test_from_a_plain_thread(dns_arp):
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("layers", wireshark_layers(dns_arp, 1)))
    t.start()
    t.join(60)
    assert _field(box["layers"], "dns", "dns.qry.name") == "example.com"


async def test_inside_a_running_event_loop(dns_arp):
    """Called (blocking) while another asyncio loop runs in this thread, as a Textual app's."""
    assert asyncio.get_running_loop() is not None
    layers = await asyncio.to_thread(wireshark_layers, dns_arp, 2)
    assert _field(layers, "arp", "arp.src.proto_ipv4") == "127.0.0.1"
    layers = wireshark_layers(dns_arp, 1)     # even directly on the loop's thread
    assert _field(layers, "udp", "udp.srcport") == "40000"


def test_missing_packet_and_file(dns_arp, tmp_path):
    with pytest.raises(WirelabError, match="no packet 3"):
        wireshark_layers(dns_arp, 3)
    with pytest.raises(WirelabError, match="no such file"):
        wireshark_layers(str(tmp_path / "nope.pcap"), 1)
    with pytest.raises(WirelabError):
        wireshark_layers(dns_arp, 0)


def test_deep_packet_uses_a_context_window(dns_arp):
    layers = wireshark_layers(dns_arp, 2, window=1)
    assert layers[0][0] == "wirelab" and "packets 2-2 only" in layers[0][1][0][1]
    assert [name for name, _ in layers[1:]] == ["eth", "arp"]
    assert _field(layers, "arp", "arp.dst.proto_ipv4") == "127.0.0.2"
