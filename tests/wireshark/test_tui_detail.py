"""The TUI's detail tree expands Wireshark's own dissection of a packet wirelab does not
dissect (DNS), through pyshark in a worker thread, while the Textual loop keeps running."""
from __future__ import annotations

from scapy.all import DNS, DNSQR, IP, UDP, Ether, wrpcap
from textual.widgets import Tree

from analyzer.tui.app import WirelabApp
from analyzer.tui.session import open_file


async def _until(pilot, cond, timeout: float) -> bool:
    for _ in range(int(timeout / 0.05)):
        if cond():
            return True
        await pilot.pause(0.05)
    return cond()


async def test_dns_packet_expands_with_tsharks_layers(tmp_path):
    path = str(tmp_path / "dns.pcap")
    wrpcap(path, [Ether() / IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=40000, dport=53)
                  / DNS(rd=1, qd=DNSQR(qname="wirelab.example"))])
    session, source = open_file(path)
    app = WirelabApp(session, loader=source)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await _until(pilot, lambda: app.session.done, 10)
        app.refresh_counts()
        await pilot.pause()
        tree = app.query_one(Tree)
        assert await _until(pilot, lambda: any(str(c.label).startswith("Wireshark")
                                               for c in tree.root.children), 10)
        ws = next(c for c in tree.root.children if str(c.label).startswith("Wireshark"))
        ws.expand()
        assert await _until(pilot, lambda: any(str(c.label) == "dns" for c in ws.children), 30)
        dns = next(c for c in ws.children if str(c.label) == "dns")
        labels = [str(c.label) for c in dns.children]
        assert "dns.qry.name: wirelab.example" in labels
        assert [str(c.label) for c in ws.children][:4] == ["eth", "ip", "udp", "dns"]
