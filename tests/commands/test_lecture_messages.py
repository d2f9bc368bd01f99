"""Messages that must not mislead: bad --messages/--dask values, a truncated capture's
warning printed once, `lab --help` listing the scenarios, the auth secret options."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "captures" / "handshake.pcap"
AUTH = ROOT / "captures" / "auth.pcap"


def wirelab(*args: str, env: dict | None = None):
    e = dict(os.environ)
    e.pop("WIRELAB_SECRET", None)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL, env=e)


def one_error(out, command: str, *words: str) -> None:
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"wirelab {command}: error: "), out.stderr
    for w in words:
        assert w in lines[0], lines[0]


@pytest.mark.parametrize("args,words", [
    (("--messages", "-5"), ("--messages", ">= 0")),
    (("--dask", "local:2"), ("--dask", "--json")),
    (("--dask", "local:0", "--json"), ("--dask", "at least 1")),
])
def test_summary_rejects_bad_numbers(args, words):
    one_error(wirelab("summary", str(GOOD), *args), "summary", *words)


def test_truncated_capture_warns_once(tmp_path):
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(GOOD.read_bytes()[:3000])
    out = wirelab("summary", str(cut))
    assert out.returncode == 0, out.stderr
    both = out.stdout + out.stderr
    assert both.count("truncated record") == 1, both


def test_lab_help_lists_every_scenario_on_one_line():
    from analyzer.lab.scenarios import SCENARIOS
    from analyzer.lab.scenarios.handshake import VARIANTS
    out = wirelab("lab", "--help")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    for name in SCENARIOS:
        assert sum(1 for ln in lines if ln.split()[:1] == [name]
                   and not ln.endswith(":")) == 1, name
    for v in VARIANTS:
        assert any(ln.split()[:1] == [v] for ln in lines), v
    assert max(map(len, lines)) <= 80


def _file(d: Path, data: bytes | None) -> Path:
    if data is None:
        return d
    (d / "secret").write_bytes(data)
    return d / "secret"


@pytest.mark.parametrize("command", ["summary", "packets"])
@pytest.mark.parametrize("data,words", [
    (None, ("--secret-file", "is a directory")),
    (b"", ("--secret-file", "is empty")),
    (b"\n", ("is empty",)),
    (b"x" * 5000, ("longer than",)),
], ids=["dir", "empty", "newline", "big"])
def test_bad_secret_file(tmp_path, command, data, words):
    one_error(wirelab(command, str(AUTH), "--secret-file", str(_file(tmp_path, data))),
              command, *words)


def test_missing_secret_file(tmp_path):
    one_error(wirelab("summary", str(AUTH), "--secret-file", str(tmp_path / "nope")),
              "summary", "--secret-file", "No such file")


def test_packets_marks_the_answer_packets(tmp_path):
    secret = tmp_path / "s"
    secret.write_text("wirelab-lab-secret\n")
    out = wirelab("packets", str(AUTH), "--secret-file", str(secret))
    marks = [ln.rsplit("[auth: ", 1)[1] for ln in out.stdout.splitlines() if "[auth: " in ln]
    assert "accepted]" in marks and "rejected]" in marks and "replayed]" in marks
    plain = wirelab("packets", str(AUTH))
    assert "[auth: unchecked]" in plain.stdout
    assert "no secret given: --secret-file or WIRELAB_SECRET" in plain.stderr
    env = wirelab("packets", str(AUTH), env={"WIRELAB_SECRET": "wirelab-lab-secret"})
    assert env.stdout == out.stdout
