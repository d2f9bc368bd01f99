"""Plain-text screenshots of a running app (for the manual, tests and debugging)."""
from __future__ import annotations


def screen_text(app) -> str:
    """The current screen as plain text lines (what a terminal would show, without colours)."""
    strips = app.screen._compositor.render_strips()
    lines = ["".join(seg.text for seg in strip).rstrip() for strip in strips]
    return "\n".join(lines)
