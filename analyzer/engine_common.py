"""Constants and small text helpers shared by the engine modules (analyzer.engine and its
engine_* / conv_state_store parts)."""
from __future__ import annotations

import importlib

from analyzer.model import ACK, ANALYSIS_BIT, FIN, PSH, RST, SYN


_LOOPBACK_DUP = ANALYSIS_BIT["loopback_duplicate"]
_SIZE_LIMITED = ANALYSIS_BIT["size_limited"]
_MALFORMED = ANALYSIS_BIT["malformed"]
_OWN_MASK = ANALYSIS_BIT["overlap_conflict"] | ANALYSIS_BIT["buffer_cap"] | _SIZE_LIMITED
_DIRS = ("c2s", "s2c")
_TCP_FLAG_NAMES = ((FIN, "FIN"), (SYN, "SYN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK"),
                   (0x20, "URG"), (0x40, "ECE"), (0x80, "CWR"))
_TAG_OF = {"retransmission": "retransmission", "fast_retransmission": "retransmission",
           "spurious_retransmission": "retransmission", "out_of_order": "out_of_order",
           "lost_segment": "lost_segment", "duplicate_ack": "dup_ack", "malformed": "malformed",
           "loopback_duplicate": "loopback_duplicate"}
# Linux cooked captures mark the outgoing/incoming copy of a lo packet in the link header:
# compare what follows it (linktype -> header length)
_COOKED = {113: 16, 276: 20}
PROBE_LIMIT = 1024          # bytes per direction a heuristic probe may wait for


def _import_optional(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def _ep(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _options_text(opts) -> str:
    """tshark's Info suffix for TCP options: ' MSS=65495 SACK_PERM TSval=1 TSecr=0 WS=1024'."""
    if not opts:
        return ""
    out = []
    if "mss" in opts:
        out.append(f"MSS={opts['mss']}")
    if opts.get("sack_perm"):
        out.append("SACK_PERM")
    for left, right in opts.get("sack") or ():
        out.append(f"SLE={left} SRE={right}")
    ts = opts.get("ts")
    if ts:
        out.append(f"TSval={ts[0]} TSecr={ts[1]}")
    if opts.get("wscale") is not None:
        out.append(f"WS={1 << min(int(opts['wscale']), 14)}")
    return (" " + " ".join(out)) if out else ""


def tcp_flag_names(flags: int) -> str:
    return ", ".join(name for bit, name in _TCP_FLAG_NAMES if flags & bit)
