"""concurrent: N clients at once on a ThreadingTCPServer; N conversations kept apart."""
from __future__ import annotations

import threading
import time

from analyzer.lab.scenarios.analysis import conv_by_client_port, convs_to_port, port_of, stream_bytes
from analyzer.lab.scenarios.base import run_threads
from analyzer.lab.scenarios.peers import AppConn

NAME = "concurrent"
SIDECAR = True    # the lab records every send()/recv() beside the capture
TITLE = "Concurrent clients on a ThreadingTCPServer"
DEMONSTRATES = ("N clients connect at the same time to a socketserver.ThreadingTCPServer "
                "(one thread per connection) and interleave their messages. The capture mixes "
                "their packets; the analysis separates them into N conversations by 4-tuple, "
                "each with only its own client's bytes.")
EXPLANATION = (
    "A TCP connection is identified by its 4-tuple (client IP, client port, server IP, "
    "server port). All clients talk to the same server port, but each has its own ephemeral "
    "port, so the server's kernel keeps one socket, one byte stream and here one thread per "
    "client. However the packets interleave on the wire, each stream stays intact; the "
    "analyzer does the same, numbering conversations in order of their first packet.")
DEFAULT_CLIENTS = 5
ROUNDS = 3


def traffic(lab, opts) -> dict:
    n = int(opts.get("clients") or DEFAULT_CLIENTS)
    srv = lab.reference_server("chat", 9000)      # a socketserver.ThreadingTCPServer
    port = srv.port
    barrier = threading.Barrier(n)

    def client(i: int):
        c = AppConn.connect(port, lab.appio, nodelay=True)
        barrier.wait(10)
        sent = b""
        for r in range(ROUNDS):
            m = b"client %d says %d\n" % (i, r)
            c.send(m)
            sent += m
            c.recv_exactly(len(m))
        c.close()
        return port_of(c.client), sent.decode()

    with lab.capture(f"tcp port {port}"):
        results = run_threads([lambda i=i: client(i) for i in range(n)])
        time.sleep(0.05)              # the server sees the last FIN and closes its side
    return {"server_port": port, "clients": [{"client_port": p, "sent": s} for p, s in results],
            "decode_as": {port: "chat"}}


def analyze(eng, ctx):
    convs = convs_to_port(eng, ctx["server_port"])
    found = [f"{len(convs)} conversations to port {ctx['server_port']} for "
             f"{len(ctx['clients'])} clients"]
    facts = {"conversations": len(convs), "clients": len(ctx["clients"]), "per_client": []}
    ok = len(convs) == len(ctx["clients"])
    first_packets = sorted(c.first_packet for c in convs)
    last_packets = sorted(c.last_packet for c in convs)
    overlap = bool(first_packets) and max(first_packets) < min(last_packets)
    pairs = []
    for cl in ctx["clients"]:
        conv = conv_by_client_port(eng, cl["client_port"])
        if conv is None:
            ok = False
            found.append(f"client port {cl['client_port']}: not found")
            continue
        pairs.append((conv, cl))
    for conv, cl in sorted(pairs, key=lambda p: p[0].id):
        mine = stream_bytes(eng, conv, "c2s").decode("utf-8", "replace")
        intact = mine == cl["sent"]
        ok = ok and intact
        facts["per_client"].append({"conversation": conv.id, "client": conv.client,
                                    "bytes_c2s": len(mine), "intact": intact})
        found.append(f"conversation {conv.id} {conv.client}: packets {conv.first_packet}-"
                     f"{conv.last_packet}, {len(mine)} bytes from its client, "
                     + ("exactly that client's messages" if intact else "MIXED or incomplete"))
    facts["interleaved"] = overlap
    found.append("the conversations overlap in time (all were open at once)" if overlap
                 else "the conversations did not all overlap in time")
    return found, facts, ok
