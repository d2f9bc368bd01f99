"""Ethertype values the decoder follows, the names of the ones it only labels, and `Layer3`:
what every link-layer and encapsulation step returns."""
from __future__ import annotations

ETH_IPV4, ETH_IPV6, ETH_ARP = 0x0800, 0x86DD, 0x0806
ETH_BRIDGED = 0x6558                   # transparent Ethernet bridging: an Ethernet frame follows
ETH_MPLS, ETH_MPLS_MC = 0x8847, 0x8848
ETH_PPPOE_SESSION = 0x8864

NAMES = {ETH_ARP: "ARP", 0x8035: "RARP", 0x88CC: "LLDP", 0x888E: "EAPOL",
         0x8863: "PPPoED", ETH_PPPOE_SESSION: "PPPoES", ETH_MPLS: "MPLS", ETH_MPLS_MC: "MPLS",
         0x88F7: "PTP", 0x0842: "WOL", 0x9000: "LOOP", 0x88BE: "ERSPAN", 0x22EB: "ERSPAN",
         0x880B: "PPP", 0x2000: "CDP", 0x8137: "IPX", 0x88E5: "MACsec", 0x8100: "802.1Q",
         0xFEFE: "OSI"}

Layer3 = tuple[int, int] | None        # (ethertype, offset where that packet starts) or None


def ethertype_text(etype: int) -> str:
    """'ethertype 0x88cc (LLDP)': what Decoded.undecoded says of a frame not followed."""
    name = NAMES.get(etype)
    return f"ethertype 0x{etype:04x} ({name})" if name else f"ethertype 0x{etype:04x}"
