"""The lab's scenarios: each reproduces one TCP/UDP phenomenon on loopback and explains it.

    from analyzer.lab.scenarios import SCENARIOS, run_scenario
    report = run_scenario("sticky-sender", out="x.pcap")      # -> base.Report
"""
from __future__ import annotations

import importlib

# scenario name -> module under analyzer.lab.scenarios, in teaching order
SCENARIOS: dict[str, str] = {
    "handshake": "handshake",
    "sticky-sender": "sticky_sender",
    "sticky-receiver": "sticky_receiver",
    "bigreply": "bigreply",
    "framed": "framed",
    "filexfer": "filexfer",
    "auth": "auth",
    "concurrent": "concurrent",
    "udp-vs-tcp": "udp_vs_tcp",
}


def get(name: str):
    """The scenario module of `name` (KeyError listing the known names otherwise)."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    return importlib.import_module(f"analyzer.lab.scenarios.{SCENARIOS[name]}")


def run_scenario(name: str, out: str | None = None, **opts):
    from analyzer.lab.scenarios.runner import run
    return run(name, out, **opts)
