"""The quick first pass: same packets, bytes, times and addresses as the engine, for pcap
(record-header hops in the engine's own map) and pcapng (a second source)."""
from __future__ import annotations

import pytest
from scapy.utils import wrpcapng

from analyzer.engine import analyze_file
from analyzer.tui.packet_list import PacketList
from analyzer.tui.session import open_file
from analyzer.render.rows import row
from tests.lenmsg_capture import lenmsg_packets
from tests.tui.conftest import make_app, wait_loaded


@pytest.fixture(scope="module")
def pcapng_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("q") / "lenmsg.pcapng")
    wrpcapng(path, lenmsg_packets())
    return path


@pytest.mark.parametrize("which", ["pcap", "pcapng"])
def test_quick_rows_agree_with_the_engine(which, lenmsg_pcap, pcapng_path):
    path = lenmsg_pcap if which == "pcap" else pcapng_path
    session, _source = open_file(path)
    quick = session.quick
    quick.scan()
    eng = analyze_file(path)
    assert quick.done and quick.count == eng.packet_count == 17
    for n in range(1, 18):
        q, e = quick.row(n), row(eng, n)
        assert quick.frame_bytes(n) == eng.frame_bytes(n)
        assert (q.src, q.dst, q.length) == (e.src, e.dst, e.length)
        assert abs(q.time - e.time) < 1e-6
        assert "pending" in q.tags and q.info.endswith("(not analyzed yet)")
    assert "handshake" in quick.row(1).tags and "teardown" in quick.row(13).tags
    # before the engine has seen a packet, the session serves it from the quick index
    assert session.count == 0 and session.total == 17
    assert session.pending(5) and session.row(5).number == 5


def test_truncated_pcap_quick_index_stops_at_the_damage(lenmsg_pcap, tmp_path):
    data = open(lenmsg_pcap, "rb").read()
    bad = tmp_path / "cut.pcap"
    bad.write_bytes(data[:-10])                  # last record body cut short
    session, _ = open_file(str(bad))
    session.quick.scan()
    assert session.quick.count == 16 and session.quick.done


async def test_pcapng_opens_in_the_app(pcapng_path):
    app = make_app(pcapng_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot, app)
        pl = app.query_one(PacketList)
        await pilot.press("end")
        assert pl.total == 17 and pl.selected_number == 17
