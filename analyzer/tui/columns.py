"""Packet-list columns: the fixed columns are sized to what they hold, Info takes the rest.

From WIDE columns on the list uses Wireshark-like generous widths; below it (an 80-column
terminal) every fixed column shrinks to its content (addresses and protocol names seen so
far), so Info keeps about half the line.

    fit = ColumnFit(count=38, addr=9, proto=4)
    widths = column_widths(80, fit)          # [5, 10, 10, 10, 7, 5, 33]
    format_row(row, widths) / header_text(widths)
"""
from __future__ import annotations

from dataclasses import dataclass, replace

WIDE = 120
TITLES = ("No.", "Time", "Source", "Destination", "Protocol", "Length", "Info")
SHORT_TITLES = ("No.", "Time", "Source", "Dest.", "Proto", "Len", "Info")
RIGHT = {0, 1, 5}                        # right-aligned columns (No., Time, Length)
MIN_INFO = 10


@dataclass(frozen=True)
class ColumnFit:
    """What the rows seen so far need: packet count, widest address, widest protocol name."""
    count: int = 0
    addr: int = 9                          # len("127.0.0.1")
    proto: int = 4

    def grown(self, src: str, dst: str, protocol: str) -> "ColumnFit":
        addr = max(self.addr, len(src), len(dst))
        proto = max(self.proto, len(protocol))
        if addr == self.addr and proto == self.proto:
            return self
        return replace(self, addr=addr, proto=proto)


def column_widths(total: int, fit: ColumnFit) -> list[int]:
    """Widths of the seven columns for a line `total` cells wide (Info takes the rest)."""
    no = max(4, len(str(max(fit.count, 1)))) + 1
    if total >= WIDE:
        addr = min(max(fit.addr, 15), 39) + 1
        fixed = [no, 11, addr, addr, max(9, fit.proto + 1), 7]
    else:
        addr = min(max(fit.addr, 7), 15) + 1
        fixed = [no, 10, addr, addr, max(6, fit.proto + 1), 5]
    return fixed + [max(MIN_INFO, total - sum(fixed))]


def cell(text: str, width: int, right: bool = False) -> str:
    """`text` in a column `width` wide (cut, one space kept as the column gap)."""
    if len(text) >= width:
        return text[: max(0, width - 1)] + " "
    return text.rjust(width - 1) + " " if right else text.ljust(width)


def time_text(t: float, width: int) -> str:
    """Relative time with as many decimals (up to 6) as fit in `width` - 1 cells."""
    text = f"{t:.6f}"
    if len(text) < width:
        return text
    whole = len(f"{t:.0f}")
    return f"{t:.{max(0, width - 3 - whole)}f}"


def format_row(row, widths: list[int]) -> str:
    """The text of one packet row at these column widths."""
    w = widths
    return (cell(str(row.number), w[0], True) + cell(time_text(row.time, w[1]), w[1], True)
            + cell(row.src, w[2]) + cell(row.dst, w[3]) + cell(row.protocol, w[4])
            + cell(str(row.length), w[5], True) + cell(row.info, w[6]))


def header_text(widths: list[int]) -> str:
    titles = TITLES if sum(widths) >= WIDE else SHORT_TITLES
    return "".join(cell(t, w, i in RIGHT) for i, (t, w) in enumerate(zip(titles, widths)))
