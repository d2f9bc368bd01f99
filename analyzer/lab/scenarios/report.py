"""Plain-text rendering of a scenario Report (the `--json` form is Report.to_json())."""
from __future__ import annotations

import textwrap

from analyzer.lab.scenarios.base import Report


def render(report: Report, width: int = 88) -> str:
    def wrap(text: str, indent: str = "  ") -> str:
        return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent)

    lines = [f"== {report.scenario}: {report.title} ==",
             "What it shows:", wrap(report.demonstrates),
             f"Capture: {report.pcap} ({report.packets} packets; "
             + (f"live capture: {report.captured} captured, {report.dropped} dropped)"
                if report.live else "replayed from the file)")]
    if report.sidecar:
        lines.append(f"Sidecar (every send()/recv() of the lab's programs): {report.sidecar}")
    lines.append("What the analysis found:")
    for f in report.found:
        lines.append(textwrap.fill(f, width, initial_indent="  - ", subsequent_indent="    "))
    for w in report.warnings:
        lines.append(f"  ! {w}")
    lines.append("Result: " + ("the phenomenon was reproduced and found in the capture"
                               if report.ok else "the phenomenon was NOT found as expected"))
    lines.append("In plain words:")
    lines.append(wrap(report.explanation))
    if report.explained:
        lines.append("Conversation by conversation:")
    for sentences in report.explained.values():
        for sentence in sentences:
            first = sentence is sentences[0]
            lines.append(textwrap.fill(sentence, width, initial_indent="  - " if first else "    ",
                                       subsequent_indent="    "))
    return "\n".join(lines)
