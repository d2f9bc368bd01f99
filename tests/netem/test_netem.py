"""wirelab agrees with tshark on real kernel traffic under loss, reordering, duplication,
jitter, a rate limit and a slow reader: reference servers and clients between two private
network namespaces (tests.netem.harness), each capture held at 0 disagreements by verify."""
from __future__ import annotations

import subprocess

import pytest

from analyzer.wireshark.verify import verify_file
from tests.netem import harness

pytestmark = pytest.mark.skipif(harness.available() is not None,
                                reason=str(harness.available()))


def _namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_namespaces_are_removed_even_when_a_run_fails():
    pair = harness.NetnsPair(250)
    with pytest.raises(RuntimeError):
        with pair:
            assert pair.ns[0] in _namespaces() and pair.ns[1] in _namespaces()
            pair.impair(harness.PROFILES["loss3"])
            pair.capture("echo", "/nonexistent-dir/x.pcap")      # tcpdump cannot write it
    assert pair.ns[0] not in _namespaces() and pair.ns[1] not in _namespaces()
    assert all(p.poll() is not None for p in pair.procs)


def test_quick_lossy_capture_agrees(tmp_path):
    """One short run: loss, duplicates and jitter on a pipelined lenmsg echo."""
    path, how = harness.one_capture(251, "mixed", "echo", str(tmp_path / "mixed.pcap"), 0.4)
    result = verify_file(path)
    assert result.agree, "\n".join(result.disagreements[:30])
    assert result.wirelab.packets > 200
    assert result.wirelab.conversations("tcp") == 2          # 1600 messages, 800 a connection


@pytest.mark.slow
def test_full_matrix_agrees(tmp_path):
    """Every profile x workload: >= 40 captures, >= 200k packets, 0 disagreements."""
    runs = harness.run_matrix(str(tmp_path), harness.matrix(repeat=1), scale=3.0)
    assert len(runs) >= 40
    packets = 0
    failed = []
    flags: set[str] = set()
    for profile, workload, path, _how in runs:
        result = verify_file(path)
        packets += result.wirelab.packets
        flags.update(*result.tshark.analysis.values())
        if not result.agree:
            failed.append(f"{profile}/{workload}: " + "; ".join(result.disagreements[:5]))
    assert not failed, "\n".join(failed)
    assert packets >= 200_000
    # the impairments really happened
    assert {"retransmission", "duplicate_ack", "lost_segment", "out_of_order",
            "window_full", "zero_window"} <= flags
