"""`wirelab lab infer` live: a student's 2-byte type + 4-byte little-endian length protocol is
recognised per direction with every boundary exact."""
import pytest

from analyzer.lab.scenarios import run_scenario
from analyzer.sources.live import capture_rights

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not capture_rights(), reason="needs root/CAP_NET_RAW")]


def test_lab_infer(tmp_path):
    rep = run_scenario("infer", str(tmp_path / "infer.pcap"))
    assert rep.ok, rep.found
    f = rep.facts["framing"]
    assert f["c2s"]["framing"] == f["s2c"]["framing"] == "len:4:le:offset=2"
    assert rep.facts["c2s_lengths"] == rep.facts["sent_lengths"]
