"""Fixtures shared across the test folders: small crafted captures."""
from __future__ import annotations

import signal

import pytest
from scapy.utils import wrpcap

from tests.lenmsg_capture import lenmsg_capture, lenmsg_packets


@pytest.fixture(scope="session")
def lenmsg_pcap(tmp_path_factory) -> str:
    return lenmsg_capture(tmp_path_factory.mktemp("tui") / "lenmsg.pcap")


@pytest.fixture(scope="session")
def gap_pcap(tmp_path_factory) -> str:
    """The lenmsg capture without packet 8 (10 bytes of the split message never captured)."""
    pk = lenmsg_packets()
    del pk[7]
    path = str(tmp_path_factory.mktemp("tui") / "gap.pcap")
    wrpcap(path, pk)
    return path


def pytest_configure(config) -> None:
    """A suite started with SIGINT ignored (a background job of a non-interactive shell,
    nohup) would pass that on to every child: the tests that stop `serve`, `capture` and
    `demo` with Ctrl-C as a user does would then wait in vain.  Python's own handler again:
    children start with SIGINT at its default."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items) -> None:
    """Tests that capture live traffic are slow by nature: the quick tier (-m "not slow")
    leaves them out."""
    for item in items:
        if item.get_closest_marker("live") is not None:
            item.add_marker(pytest.mark.slow)
