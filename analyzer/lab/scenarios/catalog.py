"""The scenarios by name, in teaching order, and their modules."""
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
    "infer": "infer",
}


def get(name: str):
    """The scenario module of `name` (KeyError listing the known names otherwise)."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    return importlib.import_module(f"analyzer.lab.scenarios.{SCENARIOS[name]}")
