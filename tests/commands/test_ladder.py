"""`wirelab ladder FILE --stream N`: the TUI's ladder diagram as plain text for slides."""
from __future__ import annotations

import pytest

from analyzer.cli import main
from tests.lenmsg_capture import lenmsg_capture


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    return lenmsg_capture(tmp_path_factory.mktemp("ladder") / "lenmsg.pcap")


def test_ladder_is_plain_text_one_arrow_per_packet(crafted, capsys):
    assert main(["ladder", crafted, "--stream", "0"]) == 0
    text = capsys.readouterr().out
    assert "\x1b" not in text
    lines = text.splitlines()
    assert "127.0.0.1:40000" in lines[0] and "127.0.0.1:9001" in lines[0]
    arrows = lines[1:]
    assert [int(line.split()[0]) for line in arrows] == list(range(1, 16))
    assert arrows[0].rstrip().endswith("handshake") and "SYN Seq=0" in arrows[0] and "─>|" in arrows[0]
    assert "|<─" in arrows[1] and "SYN,ACK" in arrows[1]
    assert "retransmission" in arrows[10]
    assert "coalesced" in arrows[5]
    assert all(len(line) == len(line.rstrip()) for line in lines)


def test_ladder_width_and_output_file(crafted, tmp_path, capsys):
    out = tmp_path / "ladder.txt"
    assert main(["ladder", crafted, "--stream", "0", "--udp", "-w", "40", "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and "UDP" in lines[1] and "|<─" in lines[2]
    assert all(line.index("|") < line.rindex("|") for line in lines[1:])


@pytest.mark.parametrize("args, message", [
    (["--stream", "5"], "no tcp stream 5"),
    (["--stream", "0", "-w", "10"], "at least 24 columns"),
])
def test_ladder_bad_input(crafted, capsys, args, message):
    assert main(["ladder", crafted, *args]) != 0
    assert message in capsys.readouterr().err
