"""`wirelab summary` text at 80 and 200 columns (COLUMNS, piped): no line wider than the
terminal, every key value whole; the teardown labels used are explained; auth verdicts."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
CAPTURES = os.path.join(ROOT, "captures")


def summary(name: str, columns: int, *args: str, env: dict | None = None) -> str:
    e = dict(os.environ)
    e.pop("WIRELAB_SECRET", None)
    e.update(COLUMNS=str(columns), **(env or {}))
    out = subprocess.run([sys.executable, "-m", "analyzer", "summary",
                          os.path.join(CAPTURES, name), *args],
                         capture_output=True, text=True, timeout=120, env=e)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _json(name: str) -> dict:
    import json
    out = subprocess.run([sys.executable, "-m", "analyzer", "summary",
                          os.path.join(CAPTURES, name), "--json"],
                         capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout)


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize("name", ["handshake.pcap", "auth.pcap", "concurrent.pcap"])
def test_fits_the_width_and_keeps_values_whole(name, columns):
    text = summary(name, columns)
    assert max(len(line) for line in text.splitlines()) <= columns
    listing = text.split("teardown kinds:", 1)[0]      # the conversations, before details
    assert "…" not in listing and "..." not in listing
    for c in _json(name)["conversations"]:
        td = c["teardown"]["kind"] + (f" by {c['teardown']['initiator']}"
                                      if c["teardown"]["initiator"] else "")
        for value in (c["client"], c["server"], c["history"], c["state"], td):
            assert value in text, (columns, value)


def test_narrow_form_has_one_block_per_conversation():
    text = summary("handshake.pcap", 80)
    assert "┃" not in text                              # not the squeezed table
    heads = [ln for ln in text.splitlines() if " → 127.0.0.1:9000  chat" in ln]
    assert len(heads) == len(_json("handshake.pcap")["conversations"])


def test_wide_form_is_the_table():
    assert "┃ teardown" in summary("handshake.pcap", 200)


def test_every_teardown_label_shown_is_explained():
    text = summary("handshake.pcap", 80)
    legend = text.split("teardown kinds:", 1)[1]
    for c in _json("handshake.pcap")["conversations"]:
        assert f"  {c['teardown']['kind']}: " in legend


def test_auth_verdicts_with_and_without_the_secret(tmp_path):
    plain = summary("auth.pcap", 80)
    assert "UNCHECKED: no secret given: --secret-file or WIRELAB_SECRET" in plain
    secret = tmp_path / "secret"
    secret.write_bytes(b"wirelab-lab-secret\n")
    text = summary("auth.pcap", 80, "--secret-file", str(secret))
    assert text.count("auth (hmac-sha256): ACCEPTED") == 1
    assert "REJECTED" in text and "not a network fault" in " ".join(text.split())
    env_text = summary("auth.pcap", 80, env={"WIRELAB_SECRET": "wirelab-lab-secret"})
    assert env_text == text
