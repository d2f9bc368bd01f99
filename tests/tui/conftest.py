"""Shared fixtures of the TUI tests: crafted captures and an app opened over the real engine."""
from __future__ import annotations


from analyzer.tui.app import WirelabApp
from analyzer.tui.session import open_file


def make_app(path: str, **kw) -> WirelabApp:
    session, source = open_file(path)
    return WirelabApp(session, loader=source, **kw)


async def wait_loaded(pilot, app, timeout: float = 10.0) -> None:
    """Let the loader worker finish (bounded), then let the UI catch up."""
    for _ in range(int(timeout / 0.02)):
        if app.session.done:
            break
        await pilot.pause(0.02)
    assert app.session.done, "capture did not finish loading"
    app.refresh_counts()
    await pilot.pause()


async def wait_for(pilot, predicate, timeout: float = 10.0) -> bool:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        await pilot.pause(0.02)
    return predicate()
