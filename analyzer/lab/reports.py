"""The bigreply server's reports: deterministic text blocks of several KB, by name."""
from __future__ import annotations

import re

REPORTS = {"small": 600, "status": 3000, "inventory": 6000, "logs": 12000, "big": 65536}
MAX_SIZED = 1 << 20
_SIZED = re.compile(r"bytes-([0-9]{1,7})\Z")


def report_size(name: str) -> int | None:
    if name in REPORTS:
        return REPORTS[name]
    m = _SIZED.match(name)
    if m and int(m.group(1)) <= MAX_SIZED:
        return int(m.group(1))
    return None


def report_text(name: str) -> bytes | None:
    """The report `name` (a table entry or "bytes-N", N <= 1 MiB), or None when unknown."""
    size = report_size(name)
    if size is None:
        return None
    lines, total, i = [], 0, 0
    while total < size:
        line = f"{name} line {i:05d}: all systems nominal, nothing was executed\n".encode()
        lines.append(line)
        total += len(line)
        i += 1
    return b"".join(lines)[:size]


def names() -> list[str]:
    return list(REPORTS) + ["bytes-N"]
