"""Run one scenario: traffic under live capture, then the engine's analysis, then a Report."""
from __future__ import annotations

import os

from analyzer.sources import sidecar as appio
from analyzer.errors import WirelabError
from analyzer.lab.scenarios.catalog import get
from analyzer.lab.scenarios.base import Lab, Report, default_pcap


def analyze_capture(pcap: str, decode_as: dict | None):
    """The engine's analysis of a lab pcap (its sidecar, if any, is loaded beside it)."""
    from analyzer.engine import analyze_file
    try:
        return analyze_file(pcap, decode_as=decode_as or None)
    except WirelabError:
        raise
    except Exception as exc:  # an engine bug must not hide the capture behind a traceback
        raise WirelabError(f"analysis failed ({type(exc).__name__}: {exc}); the capture is "
                           f"in {pcap}") from None


def _explained(eng, limit: int = 2) -> dict:
    """analyzer.render.explain's plain-language lines for the first conversations."""
    from analyzer.render.explain import explain_conversation
    out = {}
    for conv in list(eng.conversations)[:limit]:
        try:
            out[f"{conv.transport} {conv.id}"] = list(explain_conversation(eng, conv))
        except Exception:  # explanations are a bonus: never break the report
            continue
    return out


def analyze_report(name: str, pcap: str, ctx: dict, captured: int = 0, dropped: int = 0,
                   explain: bool = False) -> Report:
    mod = get(name)
    side = appio.sidecar_path(pcap)
    ctx["sidecar_records"] = appio.load(side)
    eng = analyze_capture(pcap, ctx.get("decode_as"))
    found, facts, ok = mod.analyze(eng, ctx)
    report = Report(scenario=name, title=mod.TITLE, demonstrates=mod.DEMONSTRATES, pcap=pcap,
                  sidecar=side if os.path.exists(side) else None, found=found,
                  explanation=mod.EXPLANATION, facts=facts, ok=bool(ok),
                  packets=eng.packet_count, captured=captured, dropped=dropped,
                  warnings=list(eng.warnings))
    if explain:
        report.explained = _explained(eng)
    return report


# Sticky packets and crossing FINs are timing phenomena: on a busy machine the scheduler can
# deliver an ACK before the next send (no Nagle coalescing) or autocork two NODELAY sends.
# A scenario whose phenomenon did not show is run again (the capture is rewritten), up to
# ATTEMPTS times, and the report says how many runs it took.
ATTEMPTS = 3


def run(name: str, out: str | None = None, default_ports: bool = False, explain: bool = False,
        attempts: int = ATTEMPTS, **opts) -> Report:
    report = None
    for attempt in range(1, max(1, attempts) + 1):
        report = _run_once(name, out, default_ports, explain, **opts)
        report.attempts = attempt
        if report.ok:
            break
    if report.attempts > 1:
        report.warnings.append(f"the phenomenon showed on run {report.attempts}" if report.ok
                               else f"the phenomenon did not show in {report.attempts} runs")
    return report


def _run_once(name: str, out: str | None, default_ports: bool, explain: bool, **opts) -> Report:
    mod = get(name)
    pcap = os.path.abspath(out) if out else default_pcap(name)
    parent = os.path.dirname(pcap)
    if parent and not os.path.isdir(parent):
        raise WirelabError(f"cannot write {out}: no such directory {parent}")
    lab = Lab(pcap, with_sidecar=mod.SIDECAR, default_ports=default_ports)
    try:
        ctx = mod.traffic(lab, {k: v for k, v in opts.items() if v is not None})
    finally:
        lab.close()
    report = analyze_report(name, pcap, ctx, lab.captured, lab.dropped, explain=explain)
    report.context = {k: v for k, v in ctx.items() if k != "sidecar_records"}
    report.live = True
    return report
