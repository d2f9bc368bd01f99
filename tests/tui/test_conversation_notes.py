"""The conversations view names each teardown and auth verdict and explains the highlighted
one in plain words (80x24 and 200x50), on the bundled auth capture (good, bad and replayed
answers of the three variants); open/live take the shared secret."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from textual.widgets import DataTable, Static

from analyzer.render.explain import teardown_text
from analyzer.tui.app import WirelabApp
from analyzer.tui.screens import ConversationsScreen, ExplainScreen
from analyzer.tui.screenshot import screen_text
from analyzer.tui.session import open_file
from tests.tui.conftest import wait_loaded

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AUTH = os.path.join(ROOT, "captures", "auth.pcap")
SIZES = [(80, 24), (200, 50)]

pytestmark = pytest.mark.skipif(not os.path.exists(AUTH), reason="bundled capture missing")


def auth_app(secret: bytes | None) -> WirelabApp:
    with open(os.path.join(ROOT, "captures", "auth.lab.json")) as f:
        ctx = json.load(f)["context"]
    session, source = open_file(AUTH, {int(k): v for k, v in ctx["decode_as"].items()})
    session.secret = secret
    return WirelabApp(session, loader=source)


def lab_secret() -> bytes:
    with open(os.path.join(ROOT, "captures", "auth.lab.json")) as f:
        return json.load(f)["context"]["secret"].encode()


def column(table, name: str) -> list[str]:
    i = [str(c.label) for c in table.columns.values()].index(name)
    return [str(table.get_row_at(r)[i]) for r in range(table.row_count)]


@pytest.mark.parametrize("size", SIZES)
async def test_teardown_and_auth_columns_with_notes(size):
    app = auth_app(lab_secret())
    async with app.run_test(size=size) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConversationsScreen)
        table = app.screen.query_one(DataTable)
        convs = app.session.conversations()
        assert column(table, "Teardown") == [c.teardown["kind"] for c in convs]
        assert column(table, "Auth") == ["accepted", "rejected", "accepted", "rejected",
                                         "accepted", "rejected", "replayed"]
        notes = app.screen.query_one("#conv-notes", Static)
        first = str(notes.render())
        kind = convs[0].teardown["kind"]
        assert f"Teardown {kind}: {teardown_text(kind)}" in " ".join(first.split())
        assert "accepted" in first
        await pilot.press("down")
        await pilot.pause()
        second = " ".join(str(notes.render()).split())
        assert "rejected: the client's answer is wrong" in second
        assert f"{convs[1].teardown['kind']}: " in second
        assert "Teardown" in screen_text(app) and "rejected" in screen_text(app)
        # e explains the highlighted conversation with the same verdict
        await pilot.press(*["down"] * 5, "e")
        await pilot.pause()
        assert isinstance(app.screen, ExplainScreen)
        assert "replayed" in str(app.screen.query_one("#explain").render())


async def test_without_a_secret_the_verdict_says_why_not():
    app = auth_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot, app)
        await pilot.press("c")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        auth = column(table, "Auth")
        assert len(auth) == 7 and auth == ["unchecked"] * 7     # no verdict, replays included
        notes = " ".join(str(app.screen.query_one("#conv-notes", Static).render()).split())
        assert "unchecked" in notes and "no secret given" in notes


def test_open_and_live_read_the_secret_options(tmp_path):
    for cmd in (["open", AUTH], ["live"]):
        r = subprocess.run([sys.executable, "-m", "analyzer", *cmd, "--secret-file",
                            str(tmp_path / "nope")], capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        assert r.returncode != 0
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "--secret-file" in lines[0] and "Traceback" not in r.stderr
