"""Snapshot tests (pytest-textual-snapshot): the main screen at 80x24 and at 200x50, follow
stream and ladder on the bundled sticky-sender capture (packet 14 carries three coalesced chat
messages).

Update after an intended change of looks:  pytest tests/tui/test_snapshots.py --snapshot-update
"""
from __future__ import annotations

import os
import re

import pytest
from pytest_textual_snapshot import SVGImageExtension

from tests.tui.conftest import make_app, wait_loaded

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STICKY = os.path.join(ROOT, "captures", "sticky-sender.pcap")
SIZE = (110, 36)
TO_PACKET_14 = ["down"] * 13

pytestmark = pytest.mark.skipif(not os.path.exists(STICKY), reason="bundled capture missing")


@pytest.fixture
def snap_compare(snapshot):
    """pytest-textual-snapshot's snap_compare, with the SVG's id prefix made stable.

    Rich names the SVG's CSS classes after a hash of every segment's repr, which includes
    style metadata that differs between processes; the drawn text and colours do not.
    """
    snap = snapshot.use_extension(SVGImageExtension)

    def compare(app, press=(), terminal_size=(80, 24), run_before=None) -> bool:
        from textual._doc import take_svg_screenshot
        svg = take_svg_screenshot(app=app, press=press, terminal_size=terminal_size,
                                  run_before=run_before)
        svg = re.sub(r"terminal-\d+", "terminal-wirelab", svg)
        return snap == svg
    return compare


def _app():
    return make_app(STICKY)


async def _loaded(pilot):
    await wait_loaded(pilot, pilot.app)


def test_main_screen_snapshot(snap_compare):
    assert snap_compare(_app(), press=TO_PACKET_14, terminal_size=SIZE, run_before=_loaded)


def test_main_screen_80x24_snapshot(snap_compare):
    """An 80x24 terminal: list over the detail tree, Info keeps the width left."""
    assert snap_compare(_app(), press=TO_PACKET_14, terminal_size=(80, 24), run_before=_loaded)


def test_main_screen_80x24_hex_snapshot(snap_compare):
    """80x24 after h: the hex view takes the tree's place."""
    assert snap_compare(_app(), press=TO_PACKET_14 + ["h"], terminal_size=(80, 24),
                        run_before=_loaded)


def test_main_screen_200x50_snapshot(snap_compare):
    """200x50: tree and hex side by side under the list."""
    assert snap_compare(_app(), press=TO_PACKET_14, terminal_size=(200, 50), run_before=_loaded)


def test_explain_80x24_snapshot(snap_compare):
    """80x24, e on the coalesced packet: the explanation box fits the terminal."""
    assert snap_compare(_app(), press=TO_PACKET_14 + ["e"], terminal_size=(80, 24),
                        run_before=_loaded)


def test_follow_stream_snapshot(snap_compare):
    assert snap_compare(_app(), press=TO_PACKET_14 + ["f"], terminal_size=SIZE, run_before=_loaded)


def test_follow_naive_reads_snapshot(snap_compare):
    assert snap_compare(_app(), press=TO_PACKET_14 + ["f", "r"], terminal_size=SIZE, run_before=_loaded)


def test_ladder_snapshot(snap_compare):
    assert snap_compare(_app(), press=TO_PACKET_14 + ["l"], terminal_size=SIZE, run_before=_loaded)
