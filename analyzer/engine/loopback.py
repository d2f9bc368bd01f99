"""Loopback twins: which copy of a packet on lo a Linux cooked frame is."""
from __future__ import annotations

from analyzer.engine.constants import ARPHRD_LOOPBACK, PACKET_OUTGOING


def loopback_copy(linktype: int, data: bytes) -> int:
    """Which copy a Linux cooked frame (SLL 113 / SLL2 276) of a loopback interface is: 1 the
    outgoing copy, 2 an incoming one; 0 when the link header does not say (another
    interface, or a header cut short).  Only this proves a loopback twin, never timing."""
    if linktype == 113:
        if len(data) < 16 or (data[2] << 8 | data[3]) != ARPHRD_LOOPBACK:
            return 0
        ptype = data[0] << 8 | data[1]
    else:
        if len(data) < 20 or (data[8] << 8 | data[9]) != ARPHRD_LOOPBACK:
            return 0
        ptype = data[10]
    if ptype == PACKET_OUTGOING:
        return 1
    return 2 if ptype < PACKET_OUTGOING else 0
