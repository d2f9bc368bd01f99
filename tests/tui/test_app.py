"""Pilot tests: every view and key of the TUI, on the real engine over crafted captures."""
from __future__ import annotations

from textual.widgets import DataTable, Input, Tree

from analyzer.tui.app import WirelabApp
from analyzer.tui.hexview import MSG_A, MSG_B, HexView
from analyzer.tui.lines_view import LinesView
from analyzer.tui.packet_list import PacketList
from analyzer.tui.screens import (ConversationsScreen, ExplainScreen, FollowScreen, HelpScreen,
                                  LadderScreen)
from analyzer.tui.screenshot import screen_text
from tests.tui.conftest import make_app, wait_for, wait_loaded

SIZE = (120, 40)


def tree_labels(app) -> list[str]:
    out = []

    def walk(node):
        for child in node.children:
            out.append(str(child.label))
            walk(child)
    walk(app.query_one(Tree).root)
    return out


async def test_main_screen_lists_packets_and_draws_only_visible_rows(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.pause()
        pl = app.query_one(PacketList)
        assert pl.total == 17
        text = screen_text(app)
        assert "No." in text and "Protocol" in text and "Info" in text
        assert "40000 → 9001 [SYN]" in text
        assert "LENMSG" in text and "UDPECHO" in text
        # rows are drawn from the engine on demand, never more than the visible ones (+cache)
        assert 0 < pl.rows_rendered <= 17 * 3
        assert not list(pl.query("*"))   # no child widget per row
        assert "Packets: 17" in text and "Loaded" in text


async def test_row_colours_follow_tags(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        pl = app.query_one(PacketList)
        width = pl.scrollable_content_region.width

        def bg(n):
            return pl._row_strip(n, width)._segments[0].style.bgcolor

        coalesced = pl.get_component_rich_style("packet-list--coalesced").bgcolor
        handshake = pl.get_component_rich_style("packet-list--handshake").bgcolor
        bad = pl.get_component_rich_style("packet-list--bad").bgcolor
        split = pl.get_component_rich_style("packet-list--split").bgcolor
        teardown = pl.get_component_rich_style("packet-list--teardown").bgcolor
        assert bg(1) == handshake and bg(2) == handshake
        assert bg(6) == coalesced and bg(7) == coalesced
        assert bg(8) == split
        assert bg(11) == bad                       # retransmission
        assert bg(13) == teardown
        assert len({coalesced, handshake, bad, split, teardown}) == 5
        assert bg(4) not in {coalesced, handshake, bad, split, teardown}


async def test_cursor_keys_move_selection_and_update_detail_and_hex(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        pl = app.query_one(PacketList)
        assert pl.selected_number == 1
        await pilot.press("down", "down")
        assert pl.selected_number == 3
        await pilot.press("end")
        assert pl.selected_number == 17
        await pilot.press("home")
        assert pl.selected_number == 1
        await pilot.press("pagedown")
        assert pl.selected_number > 3
        await pilot.press("pageup")
        assert pl.selected_number == 1
        await pilot.press("j", "j", "k")
        assert pl.selected_number == 2
        await pilot.press("G")
        assert pl.selected_number == 17
        await pilot.press("g")
        for _ in range(5):
            await pilot.press("down")
        await pilot.pause()
        assert pl.selected_number == 6
        labels = tree_labels(app)
        assert labels[0].startswith("Frame 6: 68 bytes on wire")
        assert any(l.startswith("Messages in this packet: 2") for l in labels)
        assert any("message #2 (c2s, whole message)" in l for l in labels)
        assert any("message #3 (c2s, whole message)" in l for l in labels)
        hexv = app.query_one(HexView)
        assert hexv.data == app.session.engine.frame_bytes(6)
        # two messages in one packet: two colours, side by side
        assert MSG_A in hexv.kinds and MSG_B in hexv.kinds
        assert hexv.kinds[54:61] == bytes([MSG_A]) * 7 and hexv.kinds[61:68] == bytes([MSG_B]) * 7


async def test_mouse_click_selects_a_row(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.click(PacketList, offset=(5, 3))
        assert app.query_one(PacketList).selected_number == 4


async def test_tree_field_is_highlighted_in_hex(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("down", "down", "down", "down", "down")   # packet 6
        await pilot.press("tab")
        tree = app.query_one(Tree)
        assert tree.has_focus
        # walk down to the first message node and check its span is highlighted
        for _ in range(40):
            node = tree.cursor_node
            if node is not None and str(node.label).startswith("lenmsg message #3"):
                break
            await pilot.press("down")
        hexv = app.query_one(HexView)
        assert hexv.highlight == (61, 68)
        await pilot.press("up")
        assert hexv.highlight != (61, 68)


async def test_lazy_scapy_and_wireshark_nodes_expand(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        tree = app.query_one(Tree)
        scapy = next(c for c in tree.root.children if str(c.label).startswith("Scapy"))
        scapy.expand()
        assert await wait_for(pilot, lambda: any(str(c.label) == "TCP" for c in scapy.children))
        ws = next(c for c in tree.root.children if str(c.label).startswith("Wireshark"))
        ws.expand()
        assert await wait_for(pilot, lambda: ws.children and str(ws.children[0].label) != "loading...",
                              timeout=30)
        labels = [str(c.label) for c in ws.children]
        assert "tcp" in labels or any("not available" in l or "failed" in l for l in labels)


async def test_filter_bar_good_bad_and_clear(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        pl = app.query_one(PacketList)
        await pilot.press("slash")
        inp = app.query_one("#filter", Input)
        assert inp.has_focus
        await pilot.press(*"tcp.prot == 9001")
        err = app.query_one("#filter-error")
        assert err.display and inp.has_class("-bad")
        assert "unknown field 'tcp.prot'" in str(err.render())
        assert "^" in str(err.render())
        await pilot.press("enter")                 # a bad filter is not applied
        assert pl.view is None and pl.total == 17
        inp.value = ""
        await pilot.press(*"msg.coalesced")
        assert not err.display and inp.has_class("-good")
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: app._filter_done)
        assert [pl.view[i] for i in range(pl.view_len)] == [6, 7]
        assert pl.has_focus and pl.selected_number in (6, 7)
        assert "Displayed: 2" in screen_text(app)
        await pilot.press("slash")
        assert inp.has_focus
        await pilot.press("escape")                # Esc leaves the bar, the filter stays
        assert pl.has_focus and pl.view_len == 2
        await pilot.press("x")
        assert pl.view is None and pl.length == 17


async def test_filter_errors_for_every_kind_of_mistake(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        inp = app.query_one("#filter", Input)
        err = app.query_one("#filter-error")
        for bad, reason in (("(tcp", "missing ')'"), ("tcp.port == x", "is a number"),
                            ("tcp.port = 1", "'=' is not an operator"), ('"open', "unterminated"),
                            ("tcp and", "expression expected"), ("ip.addr == 999.1.1.1", "not an IP")):
            inp.value = bad
            await pilot.pause()
            assert err.display, bad
            assert reason in str(err.render()), bad
            assert app.apply_filter(bad) is False
        inp.value = "tcp.port == 9001 and not tcp.analysis.retransmission"
        await pilot.pause()
        assert not err.display


async def test_conversations_view_enter_filters_to_it(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("c")
        assert isinstance(app.screen, ConversationsScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2
        row = table.get_row_at(0)
        assert row[1] == "TCP" and row[4] == "SF" and row[7] == "lenmsg"
        assert row[8] == "15" and row[10] == "8" and row[11] == "2"
        assert row[5] == app.session.conversations()[0].teardown["kind"] and row[6] == "-"
        await pilot.press("down", "enter")          # the UDP conversation
        assert not isinstance(app.screen, ConversationsScreen)
        assert app.query_one("#filter", Input).value == "udp.stream == 0"
        pl = app.query_one(PacketList)
        assert await wait_for(pilot, lambda: app._filter_done)
        assert [pl.view[i] for i in range(pl.view_len)] == [16, 17]


async def test_conversations_view_keys_open_follow_ladder_explain(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("c", "f")
        assert isinstance(app.screen, FollowScreen)
        await pilot.press("escape", "l")
        assert isinstance(app.screen, LadderScreen)
        await pilot.press("escape", "e")
        assert isinstance(app.screen, ExplainScreen)
        await pilot.press("escape", "escape")
        assert not isinstance(app.screen, (ConversationsScreen, ExplainScreen))


async def test_follow_stream_marks_messages_packets_and_toggles_naive_reads(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("down", "down", "down", "f")
        assert isinstance(app.screen, FollowScreen)
        text = app.screen.query_one(LinesView).plain_text
        assert "#6      C→S ⟦m2 7B⟧....one⟦m3 7B⟧....two" in text
        assert "#7      S→C ⟦m4 7B⟧....ONE⟦m5 7B⟧....TWO" in text
        assert "#8      C→S ⟦m6 29B⟧....split-" in text
        assert "#9      C→S across-two-segments" in text
        # the retransmission (packet 11) delivers no new bytes
        assert "#11" not in text
        await pilot.press("r")
        text = app.screen.query_one(LinesView).plain_text
        assert "recv(1024)" in text
        assert "server recv() #1: 9 bytes" in text
        await pilot.press("r")
        assert "⟦m2 7B⟧" in app.screen.query_one(LinesView).plain_text
        await pilot.press("escape")
        assert not isinstance(app.screen, FollowScreen)


async def test_follow_stream_shows_gaps(gap_pcap):
    app = make_app(gap_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("down", "down", "down", "f")
        text = app.screen.query_one(LinesView).plain_text
        assert "[10 bytes missing]" in text


async def test_follow_needs_a_tcp_or_udp_packet(tmp_path):
    from scapy.layers.l2 import ARP, Ether
    from scapy.utils import wrpcap
    path = str(tmp_path / "arp.pcap")
    wrpcap(path, [Ether() / ARP()])
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("f", "l")
        assert not isinstance(app.screen, (FollowScreen, LadderScreen))
        await pilot.press("e")
        assert isinstance(app.screen, ExplainScreen)


async def test_ladder_draws_handshake_data_and_teardown(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("l")
        assert isinstance(app.screen, LadderScreen)
        lines = app.screen.query_one(LinesView).plain_text.splitlines()
        assert "127.0.0.1:40000" in lines[0] and "127.0.0.1:9001" in lines[0]
        body = lines[1:]
        assert len(body) == 15
        assert "SYN Seq=0 Len=0" in body[0] and body[0].rstrip().endswith("handshake") and "─>|" in body[0]
        assert "SYN,ACK Seq=0 Ack=1" in body[1] and "|<─" in body[1]
        assert "coalesced" in body[5] and "Len=14" in body[5]
        assert "retransmission" in body[10]
        assert "FIN,ACK" in body[12] and "teardown" in body[12]


async def test_explain_packet_and_conversation(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("down", "down", "down", "down", "down", "e")
        assert isinstance(app.screen, ExplainScreen)
        text = str(app.screen.query_one("#explain").render())
        assert "Packet 6" in text and "Nagle" in text and "4-byte length" in text
        assert "Zeek state SF" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, ExplainScreen)


async def test_help_lists_every_key(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help").render())
        for key in ("/", "c", "f", "l", "e", "x", "space", "w", "?", "q", "Enter", "r", "Home / End"):
            assert f"  {key} " in text, key
        # every app binding is documented
        for b in WirelabApp.BINDINGS:
            key = {"slash": "/", "question_mark": "?"}.get(b.key, b.key)
            assert f"  {key} " in text, key
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_main_keys_are_inactive_on_other_views(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("l", "c", "slash", "x")      # none of these may act under the ladder
        assert isinstance(app.screen, LadderScreen)
        assert len(app.screen_stack) == 2


async def test_quit_key(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_initial_filter_from_command_line(lenmsg_pcap):
    app = make_app(lenmsg_pcap, initial_filter="tcp.flags.syn")
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        pl = app.query_one(PacketList)
        assert await wait_for(pilot, lambda: app._filter_done)
        app.refresh_counts()
        assert [pl.view[i] for i in range(pl.view_len)] == [1, 2]
        assert app.query_one("#filter", Input).value == "tcp.flags.syn"


async def test_truncated_capture_keeps_earlier_packets_and_warns(lenmsg_pcap, tmp_path):
    data = open(lenmsg_pcap, "rb").read()
    bad = tmp_path / "cut.pcap"
    bad.write_bytes(data[:-10])
    app = make_app(str(bad))
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, app)
        await pilot.pause()
        assert app.query_one(PacketList).total == 16
        text = screen_text(app)
        assert "Warning:" in text and "Traceback" not in text
