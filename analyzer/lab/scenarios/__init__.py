"""The lab's scenarios: each reproduces one TCP/UDP phenomenon on loopback and explains it.

    from analyzer.lab.scenarios import SCENARIOS, run_scenario
    report = run_scenario("sticky-sender", out="x.pcap")      # -> base.Report
"""
from analyzer.lab.scenarios.catalog import SCENARIOS, get
from analyzer.lab.scenarios.runner import run as run_scenario

__all__ = ["SCENARIOS", "get", "run_scenario"]
