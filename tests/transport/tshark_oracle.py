"""tshark as the oracle: per-packet stream numbers and tcp.analysis.* flags of a capture.

Reusable by any test:  rows = tshark_rows(path)  ->  list[dict] (one per frame, 1-based
`number`), each with `tcp_stream`/`udp_stream` (int | None), `flags` (set of our analysis
names that tshark reports for the frame), `initial_rtt` (float | None), `acks_frame`,
`tcp_flags` (int | None).
"""
from __future__ import annotations

import shutil
import subprocess

# our analysis name -> tshark field
ANALYSIS_FIELDS = {
    "retransmission": "tcp.analysis.retransmission",
    "fast_retransmission": "tcp.analysis.fast_retransmission",
    "spurious_retransmission": "tcp.analysis.spurious_retransmission",
    "out_of_order": "tcp.analysis.out_of_order",
    "lost_segment": "tcp.analysis.lost_segment",
    "ack_lost_segment": "tcp.analysis.ack_lost_segment",
    "duplicate_ack": "tcp.analysis.duplicate_ack",
    "zero_window": "tcp.analysis.zero_window",
    "zero_window_probe": "tcp.analysis.zero_window_probe",
    "keep_alive": "tcp.analysis.keep_alive",
    "keep_alive_ack": "tcp.analysis.keep_alive_ack",
    "window_update": "tcp.analysis.window_update",
    "window_full": "tcp.analysis.window_full",
    "reused_ports": "tcp.analysis.reused_ports",
    "zero_window_probe_ack": "tcp.analysis.zero_window_probe_ack",
}
_BASE = ["frame.number", "tcp.stream", "udp.stream", "tcp.flags", "tcp.analysis.initial_rtt",
         "tcp.analysis.acks_frame"]


def have_tshark() -> bool:
    return shutil.which("tshark") is not None


def _int(text: str) -> int | None:
    text = text.split(",")[0]
    return int(text, 0) if text else None


def tshark_rows(path: str) -> list[dict]:
    names = list(ANALYSIS_FIELDS)
    cmd = ["tshark", "-n", "-r", str(path), "-o", "tcp.relative_sequence_numbers:TRUE",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in _BASE + [ANALYSIS_FIELDS[n] for n in names]:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    rows = []
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(_BASE) + len(names) - len(cols))
        rtt = cols[4]
        rows.append({
            "number": int(cols[0]),
            "tcp_stream": _int(cols[1]),
            "udp_stream": _int(cols[2]),
            "tcp_flags": _int(cols[3]),
            "initial_rtt": float(rtt) if rtt else None,
            "acks_frame": _int(cols[5]),
            "flags": {n for n, v in zip(names, cols[len(_BASE):]) if v},
        })
    return rows
