"""Pilot tests of the Wireshark-parity keys at 80x24 and 200x50: go to packet (ctrl+g), find
in the frame bytes (ctrl+f, n, N), apply the highlighted detail field as a filter (a, A)."""
from __future__ import annotations

import pytest
from textual.widgets import Input, Tree

from analyzer.filters.display_filter import compile_filter
from analyzer.tui.detail import Node, build_detail
from analyzer.tui.goto_find import PromptScreen, parse_pattern
from analyzer.tui.hexview import HexView
from analyzer.tui.packet_list import PacketList
from analyzer.tui.screenshot import screen_text
from analyzer.tui.session import open_file
from tests.tui.conftest import make_app, wait_for, wait_loaded

SIZES = [(80, 24), (200, 50)]
PAYLOAD_AT = 14 + 20 + 20          # Ethernet + IPv4 + TCP without options


async def shows(pilot, app, text: str) -> bool:
    """`text` appears on screen (a notification is drawn a moment after it is posted)."""
    return await wait_for(pilot, lambda: text in screen_text(app), timeout=3.0)


def displayed(app) -> list[int]:
    pl = app.query_one(PacketList)
    return [pl.number_at(i) for i in range(pl.length)]


async def type_in_prompt(pilot, app, text: str) -> None:
    assert isinstance(app.screen, PromptScreen)
    for ch in text:
        await pilot.press(ch if ch != " " else "space")
    await pilot.press("enter")
    await pilot.pause()


def test_parse_pattern():
    assert parse_pattern("hello") == b"hello"
    assert parse_pattern("00:00:00:05") == b"\x00\x00\x00\x05"
    assert parse_pattern("de-ad be:ef") == b"\xde\xad\xbe\xef"
    assert parse_pattern("0x000102") == b"\x00\x01\x02"
    assert parse_pattern('"00:01"') == b"00:01"
    assert parse_pattern("cafe") == b"cafe"           # no separator: a string
    with pytest.raises(ValueError):
        parse_pattern("   ")
    with pytest.raises(ValueError):
        parse_pattern("x" * 5000)


@pytest.mark.parametrize("size", SIZES)
async def test_goto_packet(lenmsg_pcap, size):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_loaded(pilot, app)
        pl = app.query_one(PacketList)
        await pilot.press("ctrl+g")
        assert await shows(pilot, app, "Go to packet")
        await type_in_prompt(pilot, app, "12")
        assert pl.selected_number == 12
        assert pl.has_focus
        text = screen_text(app)
        assert "  12 " in text                              # the row is on screen
        # beyond the capture: the cursor stays, a warning says why
        await pilot.press("ctrl+g")
        await type_in_prompt(pilot, app, "99")
        assert pl.selected_number == 12
        assert await shows(pilot, app, "not in this capture")
        # not a number: the prompt stays open with the reason
        await pilot.press("ctrl+g")
        await pilot.press("enter")
        assert isinstance(app.screen, PromptScreen)
        assert await shows(pilot, app, "type a packet number")
        await pilot.press("escape")
        assert not isinstance(app.screen, PromptScreen)
        assert pl.selected_number == 12


async def test_goto_packet_filtered_out(lenmsg_pcap):
    app = make_app(lenmsg_pcap, initial_filter="udp")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_loaded(pilot, app)
        assert await wait_for(pilot, lambda: displayed(app) == [16, 17])
        pl = app.query_one(PacketList)
        await pilot.press("ctrl+g")
        await type_in_prompt(pilot, app, "4")
        assert pl.selected_number == 16
        assert await shows(pilot, app, "not displayed")
        await pilot.press("ctrl+g")
        await type_in_prompt(pilot, app, "17")
        assert pl.selected_number == 17


@pytest.mark.parametrize("size", SIZES)
async def test_find_string_then_next_and_previous(lenmsg_pcap, size):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_loaded(pilot, app)
        pl = app.query_one(PacketList)
        await pilot.press("ctrl+f")
        await type_in_prompt(pilot, app, "TWO")
        # packets 7 ("TWO"), 10 and 11 ("SPLIT-ACROSS-TWO-SEGMENTS") carry it
        assert await wait_for(pilot, lambda: pl.selected_number == 7)
        assert app.find_match == (7, PAYLOAD_AT + 11, PAYLOAD_AT + 14)
        assert app.query_one(HexView).highlight == (PAYLOAD_AT + 11, PAYLOAD_AT + 14)
        assert await shows(pilot, app, "Found 'TWO' in packet 7")
        await pilot.press("n")
        assert await wait_for(pilot, lambda: pl.selected_number == 10)
        await pilot.press("n")
        assert await wait_for(pilot, lambda: pl.selected_number == 11)
        await pilot.press("n")                              # wraps around to the first
        assert await wait_for(pilot, lambda: pl.selected_number == 7)
        await pilot.press("N")                              # backwards, wrapping
        assert await wait_for(pilot, lambda: pl.selected_number == 11)
        # ctrl+f again offers the last pattern: Enter finds the next match
        await pilot.press("ctrl+f")
        assert app.screen.query_one("#prompt", Input).value == "TWO"
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: app.find_match is not None and app.find_match[0] == 7)
        assert pl.selected_number == 7


@pytest.mark.parametrize("size", SIZES)
async def test_find_hex_bytes(lenmsg_pcap, size):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_loaded(pilot, app)
        pl = app.query_one(PacketList)
        await pilot.press("ctrl+f")
        await type_in_prompt(pilot, app, "00:00:00:05")   # the length prefix of "hello"/"HELLO"
        assert await wait_for(pilot, lambda: pl.selected_number == 4)
        assert app.find_match == (4, PAYLOAD_AT, PAYLOAD_AT + 4)
        await pilot.press("n")
        assert await wait_for(pilot, lambda: pl.selected_number == 5)
        # nothing matches: the cursor stays, a warning says so
        await pilot.press("ctrl+f")
        app.screen.query_one("#prompt", Input).value = ""
        await type_in_prompt(pilot, app, "de:ad:be:ef")
        assert await wait_for(pilot, lambda: app.find_match is None)
        assert pl.selected_number == 5
        assert await shows(pilot, app, "Not found")


async def test_find_empty_pattern_keeps_prompt(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("ctrl+f", "enter")
        assert isinstance(app.screen, PromptScreen)
        assert await shows(pilot, app, "type a string or hex bytes")
        await pilot.press("escape")
        assert app.find_text == ""


async def highlight_field(pilot, app, label_start: str) -> None:
    """Put the detail tree's cursor on the node whose label starts with `label_start` (again
    if the tree was built anew meanwhile: a filter applied re-selects the packet)."""
    def walk(node, found):
        for child in node.children:
            if str(child.label).startswith(label_start):
                found.append(child)
            walk(child, found)
        return found
    tree = app.query_one(Tree)
    for _ in range(20):
        found = walk(tree.root, [])
        assert found, label_start
        node = found[0]
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        await pilot.pause()
        tree.move_cursor(node)
        await pilot.pause()
        if tree.cursor_node is node:
            return
    assert str(tree.cursor_node.label).startswith(label_start)


@pytest.mark.parametrize("size", SIZES)
async def test_apply_field_as_filter(lenmsg_pcap, size):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("down", "down", "down")          # packet 4, client -> server
        await pilot.pause()
        tree = app.query_one(Tree)
        tree.focus()
        await highlight_field(pilot, app, "Source port: 40000")
        await pilot.press("a")
        assert app.query_one("#filter", Input).value == "tcp.srcport == 40000"
        assert await wait_for(pilot, lambda: app._filter_done)
        assert displayed(app) == [1, 3, 4, 6, 8, 9, 12, 13, 15]
        assert await shows(pilot, app, "Filter: tcp.srcport == 40000")
        # the selected packet stays selected when the filter lets it through (Wireshark)
        assert app.packet_list.selected_number == 4
        # A: "...and Selected"
        tree.focus()
        await highlight_field(pilot, app, "[TCP segment length:")
        await pilot.press("A")
        assert app.query_one("#filter", Input).value == "tcp.srcport == 40000 and tcp.len == 9"
        assert await wait_for(pilot, lambda: app._filter_done)
        assert displayed(app) == [4]


async def test_apply_field_without_filter_warns(lenmsg_pcap):
    app = make_app(lenmsg_pcap)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_loaded(pilot, app)
        await highlight_field(pilot, app, "Encapsulation:")
        await pilot.press("a")
        assert app.query_one("#filter", Input).value == ""
        assert await shows(pilot, app, "Highlight a field")


def test_every_field_filter_compiles_and_matches_its_packet(lenmsg_pcap):
    """Apply as Filter never offers a filter that is bad or that drops the packet it came from."""
    session, source = open_file(lenmsg_pcap)
    session.feed(source)
    eng = session.engine
    seen = set()

    def walk(nodes, n):
        for node in nodes:
            if node.filter:
                assert compile_filter(node.filter).matches(eng, n), (n, node.label, node.filter)
                seen.add(node.filter.split(" ")[0])
            walk(node.children, n)
    for n in range(1, eng.packet_count + 1):
        nodes = build_detail(session, n)
        assert all(isinstance(x, Node) for x in nodes)
        walk(nodes, n)
    eng.close()
    for field in ("frame.number", "ip.src", "ip.dst", "ip.ttl", "ip.len", "tcp.srcport",
                  "tcp.dstport", "tcp.stream", "tcp.len", "tcp.seq", "tcp.flags", "tcp.flags.syn",
                  "tcp.window_size_value", "tcp.analysis.retransmission", "udp.srcport",
                  "udp.length", "udp.stream", "msg.protocol", "msg.len", "msg.split", "msg.count"):
        assert field in seen, field
