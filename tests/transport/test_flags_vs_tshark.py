"""Per-packet TCP analysis flags of crafted conversations must equal tshark's tcp.analysis.*."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.transport import scenarios
from tests.transport.helpers import Crafter, flag_mismatches, run_flows, stream_mismatches
from tests.transport.tshark_oracle import have_tshark, tshark_rows

pytestmark = pytest.mark.skipif(not have_tshark(), reason="tshark not installed")


@pytest.mark.parametrize("name", sorted(scenarios.ALL))
@pytest.mark.parametrize("v6", [False, True], ids=["v4", "v6"])
def test_flags_match_tshark(tmp_path, name, v6):
    k = Crafter(v6=v6)
    scenarios.ALL[name](k)
    path = k.write(tmp_path / f"{name}.pcap")
    rows = tshark_rows(path)
    assert rows, "tshark read nothing"
    assert stream_mismatches(path, rows) == []
    assert flag_mismatches(path, rows) == []


@pytest.mark.parametrize("name", sorted(scenarios.ALL))
def test_initial_rtt_matches_tshark(tmp_path, name):
    k = Crafter()
    scenarios.ALL[name](k)
    path = k.write(tmp_path / f"{name}.pcap")
    rows = tshark_rows(path)
    table, _ = run_flows(path)
    theirs = {}
    for r in rows:
        if r["tcp_stream"] is not None and r["initial_rtt"] is not None:
            theirs.setdefault(r["tcp_stream"], r["initial_rtt"])
    ours = {f.id: f.initial_rtt for f in table.conversations
            if f.transport == "tcp" and f.initial_rtt is not None}
    assert ours.keys() == theirs.keys()
    for sid, rtt in theirs.items():
        assert ours[sid] == pytest.approx(rtt, abs=1e-9)


_CAPTURES = sorted(Path(__file__).resolve().parents[2].joinpath("captures").glob("*.pcap"))


@pytest.mark.parametrize("path", _CAPTURES, ids=[p.name for p in _CAPTURES])
def test_bundled_captures_match_tshark(path):
    rows = tshark_rows(path)
    assert stream_mismatches(path, rows) == []
    assert flag_mismatches(path, rows) == []
