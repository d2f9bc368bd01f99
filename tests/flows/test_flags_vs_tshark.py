"""Per-packet TCP analysis flags of crafted conversations must equal tshark's tcp.analysis.*."""
from __future__ import annotations

import pytest

from tests.flows import scenarios
from tests.flows.helpers import Crafter, flag_mismatches, stream_mismatches
from tests.flows.tshark_oracle import have_tshark, tshark_rows

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
