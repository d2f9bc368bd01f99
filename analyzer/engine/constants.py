"""Constants the engine and its readers share."""
from __future__ import annotations

from analyzer.transport.analysis_flags import ANALYSIS_BIT

DIRS = ("c2s", "s2c")                           # direction 0 and 1 of a conversation
LOOPBACK_DUP = ANALYSIS_BIT["loopback_duplicate"]
SIZE_LIMITED = ANALYSIS_BIT["size_limited"]
MALFORMED = ANALYSIS_BIT["malformed"]
# the analysis bits the engine sets itself (the rest come from analyzer.transport)
ENGINE_BITS = ANALYSIS_BIT["overlap_conflict"] | ANALYSIS_BIT["buffer_cap"] | SIZE_LIMITED
# Linux cooked captures (SLL, SLL2) say which interface type and which copy a frame is:
# on a loopback interface the outgoing copy and the incoming copy of one packet are twins
# (linktype -> link header length; compare what follows it)
COOKED_HEADER = {113: 16, 276: 20}
ARPHRD_LOOPBACK = 772           # interface type of lo in the cooked header
PACKET_OUTGOING = 4             # packet type of the outgoing copy (0-3: incoming)
PROBE_LIMIT = 1024          # bytes per direction a heuristic probe may wait for
