"""`wirelab demo` without a terminal: prints the reports and exits 0 (live as root, replayed
from the bundled captures without capture rights)."""
import json
import shutil
import subprocess
import sys

import pytest

from analyzer.commands.demo import TOUR
from analyzer.sources.live import capture_rights


def _demo(*args, prefix=None):
    cmd = [sys.executable, "-m", "analyzer", "demo", *args]
    if prefix:
        cmd = [*prefix, " ".join(cmd)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


@pytest.mark.skipif(not capture_rights(), reason="needs root/CAP_NET_RAW")
def test_demo_live_piped_prints_reports_and_exits_0():
    out = _demo()
    assert out.returncode == 0, out.stderr
    assert "live on loopback" in out.stdout
    for name in TOUR:
        assert f"== {name}:" in out.stdout
    assert out.stdout.count("the phenomenon was reproduced") == len(TOUR)
    assert "Traceback" not in out.stderr


@pytest.mark.skipif(shutil.which("capsh") is None, reason="capsh not installed")
def test_demo_without_capture_rights_replays_bundled_captures():
    out = _demo(prefix=["capsh", "--drop=cap_net_raw", "--", "-c"])
    assert out.returncode == 0, out.stderr
    assert "replaying the bundled captures" in out.stdout
    assert out.stdout.count("replayed from the file") == len(TOUR)
    assert out.stdout.count("the phenomenon was reproduced") == len(TOUR)


def test_demo_replay_json_all():
    out = _demo("--replay", "--json", "--all")
    assert out.returncode == 0, out.stderr
    reports = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(reports) == 9 and all(r["ok"] and not r["live"] for r in reports)
