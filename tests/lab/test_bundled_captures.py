"""The bundled captures (made by `python3 -m analyzer.lab.regenerate`) still analyze the way
their expected summaries and lab reports say.  No capture rights needed."""
import json
import os
import subprocess
import sys

import pytest

from analyzer.lab.scenarios import SCENARIOS
from analyzer.lab.scenarios.runner import analyze_report

CAPTURES = os.path.join(os.path.dirname(__file__), "..", "..", "captures")
STABLE = ("id", "transport", "client", "server", "state", "history", "handshake", "teardown",
          "protocol", "coalesced_packets", "first_packet", "last_packet", "packets")


def _path(name, suffix):
    return os.path.normpath(os.path.join(CAPTURES, name + suffix))


def _summary(pcap):
    out = subprocess.run([sys.executable, "-m", "analyzer", "summary", pcap, "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _stable(summary):
    convs = []
    for c in summary["conversations"]:
        d = {k: c[k] for k in STABLE}
        d["messages"] = [(m["direction"], m["length"], m["packets"]) for m in c["messages"]]
        convs.append(d)
    return summary["packets"], convs


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_bundled_capture_matches_expected_summary(name):
    pcap = _path(name, ".pcap")
    assert os.path.getsize(pcap) < 100_000
    with open(_path(name, ".summary.json")) as f:
        expected = json.load(f)
    assert _stable(_summary(pcap)) == _stable(expected)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_bundled_capture_shows_its_phenomenon(name):
    with open(_path(name, ".lab.json")) as f:
        saved = json.load(f)
    ctx = saved["context"]
    ctx["decode_as"] = {int(k): v for k, v in ctx.get("decode_as", {}).items()}
    rep = analyze_report(name, _path(name, ".pcap"), ctx)
    assert rep.ok, rep.found
    assert rep.facts == saved["facts"]
    assert (rep.sidecar is not None) == (saved["sidecar"] is not None)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_bundled_capture_has_each_packet_once(name):
    """No loopback twins: tshark counts what we count, and no frame repeats the one before."""
    from analyzer.sources.pcapfile import read_pcap
    pcap = _path(name, ".pcap")
    out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, check=True).stdout.split()
    frames = [rec.data for rec in read_pcap(pcap)]
    assert len(out) == len(frames) == _summary(pcap)["packets"]
    assert all(a != b for a, b in zip(frames, frames[1:]))


def test_readme_lists_every_capture():
    with open(os.path.join(CAPTURES, "README.md")) as f:
        text = f.read()
    for name in SCENARIOS:
        assert f"{name}.pcap" in text
