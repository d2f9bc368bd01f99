"""udp-vs-tcp: the same messages over UDP and TCP; only UDP keeps each boundary."""
from __future__ import annotations

import threading
import time

from analyzer.lab.scenarios.analysis import app_calls, conv_by_client_port, messages, port_of
from analyzer.lab.netio import addr_text as addr
from analyzer.lab.scenarios.peers import AppConn

NAME = "udp-vs-tcp"
SIDECAR = True    # the lab records every send()/recv() beside the capture
TITLE = "UDP keeps message boundaries, TCP does not"
DEMONSTRATES = ("Four messages are sent back to back over UDP and over TCP to servers that "
                "wait 50 ms before reading. Over UDP each sendto() is one datagram and each "
                "recvfrom() returns exactly one. Over TCP the server's first recv() returns "
                "all four glued together.")
EXPLANATION = (
    "UDP is message-oriented: one sendto() is one datagram, delivered whole or not at all, "
    "and one recvfrom() returns exactly one datagram, however long the reader waited. TCP is "
    "a byte stream: the bytes of several send() calls wait in the receive buffer and one "
    "recv() returns them together. UDP pays for its boundaries with no delivery guarantee, "
    "no ordering and no flow control; TCP needs framing on top to carry messages.")
MESSAGES = (b"msg 1\n", b"msg 2\n", b"msg 3\n", b"msg 4\n")
DELAY = 0.05


def _udp_server(sock, appio, n: int) -> None:
    time.sleep(DELAY)
    offsets: dict = {}
    for _ in range(n):
        data, peer = sock.recvfrom(65535)
        client, server = addr(peer), addr(sock.getsockname())
        if appio is not None:
            off = offsets.get(client, 0)
            appio.record(client=client, server=server, side="server", op="recv",
                         direction="c2s", offset=off, length=len(data), transport="udp")
            offsets[client] = off + len(data)
        sock.sendto(data.upper(), peer)


def traffic(lab, opts) -> dict:
    usock = lab.udp_socket(default=9005)
    uport = usock.getsockname()[1]
    usock.settimeout(10)
    tport = lab.reference_server("chat", 9000, first_read_delay=DELAY).port
    with lab.capture(f"udp port {uport} or tcp port {tport}"):
        t = threading.Thread(target=_udp_server, args=(usock, lab.appio, len(MESSAGES)), daemon=True)
        t.start()
        uc = lab.udp_socket()
        uc.settimeout(10)
        client, server_ep = addr(uc.getsockname()), addr(("127.0.0.1", uport))
        off = 0
        for m in MESSAGES:
            uc.sendto(m, ("127.0.0.1", uport))
            if lab.appio is not None:
                lab.appio.record(client=client, server=server_ep, side="client", op="send",
                                 direction="c2s", offset=off, length=len(m), transport="udp")
            off += len(m)
        for _ in MESSAGES:
            uc.recvfrom(65535)
        t.join(10)
        c = AppConn.connect(tport, lab.appio)
        for m in MESSAGES:
            c.send(m)
        c.recv_exactly(sum(map(len, MESSAGES)))
        c.close()
        time.sleep(0.05)              # the server sees the FIN and closes its side
    return {"udp_port": uport, "udp_client_port": uc.getsockname()[1], "tcp_port": tport,
            "tcp_client_port": port_of(c.client), "decode_as": {uport: "udpecho", tport: "chat"},
            "sent": len(MESSAGES)}


def analyze(eng, ctx):
    records = ctx.get("sidecar_records")
    found, facts, ok = [], {}, True
    uconv = conv_by_client_port(eng, ctx["udp_client_port"], "udp")
    tconv = conv_by_client_port(eng, ctx["tcp_client_port"], "tcp")
    if uconv is None or tconv is None:
        return ["a conversation is missing from the capture"], {}, False
    umsgs = messages(uconv, "c2s")
    one_each = all(len(m.packets) == 1 for m in umsgs) and len(set(
        p for m in umsgs for p in m.packets)) == len(umsgs)
    ureads = app_calls(records, uconv, "server", "recv")
    found.append(f"UDP conversation {uconv.id}: {len(umsgs)} datagrams client->server, "
                 + ("each exactly one message" if one_each else "NOT one message each")
                 + f"; the server's recvfrom() returned {[r.length for r in ureads]} bytes")
    tmsgs = messages(tconv, "c2s")
    treads = app_calls(records, tconv, "server", "recv")
    found.append(f"TCP conversation {tconv.id}: the client made {ctx['sent']} send() calls; "
                 f"the server's recv() returned {[r.length for r in treads]} bytes "
                 f"({len(treads)} read(s) for {ctx['sent']} messages)")
    facts = {"udp": {"conversation": uconv.id, "messages": len(umsgs), "one_datagram_each": one_each,
                     "recv_calls": [r.length for r in ureads]},
             "tcp": {"conversation": tconv.id, "messages": len(tmsgs),
                     "recv_calls": [r.length for r in treads],
                     "coalesced_packets": list(tconv.coalesced_packets)}}
    ok = one_each and len(umsgs) == ctx["sent"] and len(ureads) == ctx["sent"] and 0 < len(treads) < ctx["sent"]
    return found, facts, ok
