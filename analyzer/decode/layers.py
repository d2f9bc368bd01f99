"""From a link layer's packet down to the innermost TCP/UDP header: `network` follows PPPoE
sessions, MPLS, bridged Ethernet, IP-in-IP (4), IPv6-in-IP (41), GRE (47) and VXLAN (UDP
4789), then decodes IPv4/IPv6 and TCP/UDP, as tshark's conversation tables see the packet.
"""
from __future__ import annotations

from analyzer.decode.decoded import Decoded
from analyzer.decode.ethertypes import (ETH_BRIDGED, ETH_IPV4, ETH_IPV6, ETH_MPLS, ETH_MPLS_MC,
                                        ETH_PPPOE_SESSION)
from analyzer.decode.ip import ipv4, ipv6, not_ip
from analyzer.decode.link import ethernet_at
from analyzer.decode.ppp import pppoe_session
from analyzer.decode.transport import other_protocol, tcp, udp
from analyzer.decode.tunnels import VXLAN_PORT, gre, mpls, vxlan

# ethertypes that wrap another packet: function(d, data, offset, limited) -> (ethertype, offset)
_STEPS = {ETH_PPPOE_SESSION: pppoe_session, ETH_MPLS: mpls, ETH_MPLS_MC: mpls,
          ETH_BRIDGED: ethernet_at}
_IP_IN_IP = {4: ETH_IPV4, 41: ETH_IPV6}          # IP protocol -> the IP version it carries
_GRE = 47
MAX_LAYERS = 16                                  # encapsulation steps followed, at most


def network(d: Decoded, data: bytes, etype: int, off: int, limited: bool,
            budget: int = MAX_LAYERS) -> Decoded:
    """Decode the packet of `etype` at `off` into d; returns d, or the Decoded of the frame a
    VXLAN datagram carries when that reaches TCP/UDP."""
    for _ in range(budget):
        d.l3_offset = off
        step = _STEPS.get(etype)
        if step is not None:
            found = step(d, data, off, limited)
            if found is None:
                return d
            etype, off = found
            continue
        if etype == ETH_IPV4:
            layer4 = ipv4(d, data, off, limited)
        elif etype == ETH_IPV6:
            layer4 = ipv6(d, data, off, limited)
        else:
            not_ip(d, etype)
            return d
        if layer4 is None:
            return d
        proto, off, length = layer4
        d.l4_offset = off
        if proto == 6:
            tcp(d, data, off, length, limited)
            return d
        if proto == 17:
            udp(d, data, off, length, limited)
            if d.transport == "udp" and (d.dport == VXLAN_PORT or d.sport == VXLAN_PORT):
                return _vxlan_inner(d, data, limited, budget - 1)
            return d
        if proto != _GRE and proto not in _IP_IN_IP:
            other_protocol(d, proto, data, off, length)
            return d
        if off + length < len(data):     # the carried packet ends where its carrier does
            data = data[:off + length]
        if proto == _GRE:
            found = gre(d, data, off, limited)
            if found is None:
                return d
            etype, off = found
        else:
            etype = _IP_IN_IP[proto]
    d.undecoded = f"more than {MAX_LAYERS} nested encapsulations"
    return d


def _vxlan_inner(d: Decoded, data: bytes, limited: bool, budget: int) -> Decoded:
    """The frame inside a VXLAN datagram when it reaches TCP/UDP; else the datagram itself
    (in its UDP conversation, as tshark keeps it), labelled with what it carries."""
    end = d.payload_offset + d.captured_payload_len
    if budget <= 0:
        d.undecoded = f"more than {MAX_LAYERS} nested encapsulations"
        return d
    inner = Decoded()
    inner.linktype = d.linktype
    inner.vlan = d.vlan
    carried = data[:end] if end < len(data) else data
    found = vxlan(inner, carried, d.payload_offset, limited)
    if found is not None:
        inner = network(inner, carried, found[0], found[1], limited, budget)
    if inner.transport == "tcp" or inner.transport == "udp":
        if inner.malformed is None:
            inner.malformed = d.malformed
        return inner
    d.protocol = inner.protocol
    d.undecoded = inner.undecoded
    if inner.malformed is not None:
        d.malformed = inner.malformed
    return d
