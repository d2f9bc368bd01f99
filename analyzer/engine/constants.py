"""Constants the engine and its readers share."""
from __future__ import annotations

from analyzer.transport.analysis_flags import ANALYSIS_BIT

DIRS = ("c2s", "s2c")                           # direction 0 and 1 of a conversation
LOOPBACK_DUP = ANALYSIS_BIT["loopback_duplicate"]
SIZE_LIMITED = ANALYSIS_BIT["size_limited"]
MALFORMED = ANALYSIS_BIT["malformed"]
# the analysis bits the engine sets itself (the rest come from analyzer.transport)
ENGINE_BITS = ANALYSIS_BIT["overlap_conflict"] | ANALYSIS_BIT["buffer_cap"] | SIZE_LIMITED
# Linux cooked captures mark the outgoing/incoming copy of a lo packet in the link header:
# compare what follows it (linktype -> header length)
COOKED_HEADER = {113: 16, 276: 20}
PROBE_LIMIT = 1024          # bytes per direction a heuristic probe may wait for
