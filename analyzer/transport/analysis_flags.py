"""Per-packet analysis flags: one bit per finding (tshark's `tcp.analysis.*` names where
Wireshark has one), kept in one integer per packet."""
from __future__ import annotations

# --- per-packet analysis flags ----------------------------------------------------------
# Names are tshark's `tcp.analysis.<name>` field suffixes where Wireshark has one.
ANALYSIS_NAMES: tuple[str, ...] = (
    "retransmission",          # 0
    "fast_retransmission",     # 1
    "spurious_retransmission", # 2
    "out_of_order",            # 3
    "lost_segment",            # 4  "previous segment not captured"
    "ack_lost_segment",        # 5  "ACKed segment that wasn't captured"
    "duplicate_ack",           # 6
    "zero_window",             # 7
    "zero_window_probe",       # 8
    "keep_alive",              # 9
    "keep_alive_ack",          # 10
    "window_update",           # 11
    "window_full",             # 12
    "reused_ports",            # 13
    "overlap_conflict",        # 14  retransmitted bytes differ from the first copy (ours)
    "size_limited",            # 15  caplen < len: "packet size limited during capture"
    "malformed",               # 16  a header could not be decoded
    "loopback_duplicate",      # 17  second copy of a packet seen twice on lo (not counted)
    "buffer_cap",              # 18  reassembly buffer cap hit in this direction
    "zero_window_probe_ack",   # 19  tshark's tcp.analysis.zero_window_probe_ack
)
ANALYSIS_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(ANALYSIS_NAMES)}


def analysis_list(bits: int) -> list[str]:
    if not bits:
        return []
    return [name for i, name in enumerate(ANALYSIS_NAMES) if bits >> i & 1]
