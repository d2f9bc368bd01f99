"""Bulk frame decoder: link layer, IPv4/IPv6, TCP/UDP with structs compiled once, no Scapy.

`decode_frame(linktype, data, origlen)` never raises: a header it cannot decode sets
`Decoded.malformed` to the reason ("truncated TCP header", "bad IPv4 total length 12"...).
When the frame was cut by the capture's snaplen (caplen < origlen), a cut header reads
"packet size limited during capture (TCP header cut)"; a cut *payload* is not malformed at
all: `payload_len` (from the headers) > `captured_payload_len` (bytes present).

Tunnels are followed to the innermost TCP/UDP header (as tshark's conversation tables use
it); what the decoder does not follow sets `Decoded.undecoded` ("ethertype 0x88cc (LLDP)").

Modules, one per layer, each filling the Decoded it is given:
  frame       decode_frame (with its one fast path) and decode_general: link, then layers
  link        Ethernet (802.1Q/802.1ad VLAN tags), BSD/OpenBSD loopback (0, 108), Linux SLL
              (113) and SLL2 (276), raw IP (12, 101, 228, 229) -> ethertype, layer-3 offset
  ppp, nflog  PPP (9, 50, 204), PPPoE (51 and ethertype 0x8864), Cisco HDLC (104, 205), NFLOG (239)
  layers      the loop from layer 3 down: encapsulations, ip, transport
  tunnels     MPLS label stacks, GRE, VXLAN;  ethertypes: values, names, Layer3
  ip          IPv4 (fragments labelled, not reassembled), IPv6 with extension headers, ARP
              and other ethertypes labelled -> IP protocol, layer-4 offset and length
  transport   TCP (options parsed), UDP; ICMP, ICMPv6 and other IP protocols labelled
  addresses   address bytes -> text (cached);  malformed: the "header cut" wording
  decoded     the Decoded class and the TCP flag bits
"""
from __future__ import annotations

from analyzer.decode.addresses import ip4_text, ip6_text, mac_text
from analyzer.decode.decoded import Decoded
from analyzer.decode.frame import decode_frame, decode_general
from analyzer.decode.ethertypes import ETH_ARP, ETH_IPV4, ETH_IPV6
from analyzer.decode.transport import tcp_options

__all__ = ["decode_frame", "decode_general", "tcp_options", "Decoded", "ip4_text", "ip6_text",
           "mac_text", "ETH_IPV4", "ETH_IPV6", "ETH_ARP"]
