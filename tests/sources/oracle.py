"""tshark as the oracle: what it reads from a capture file."""
from __future__ import annotations

import subprocess


def tshark_frames(path: str) -> list[tuple[float, int, int]]:
    """[(time_epoch, frame.len, frame.cap_len)] as tshark 4.0 reads `path` (0.0: no time)."""
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.time_epoch",
         "-e", "frame.len", "-e", "frame.cap_len"],
        capture_output=True, text=True, timeout=60)
    rows = []
    for line in out.stdout.splitlines():
        t, ln, cap = line.split("\t")
        rows.append((float(t) if t else 0.0, int(ln), int(cap)))   # no time: SPB
    return rows
