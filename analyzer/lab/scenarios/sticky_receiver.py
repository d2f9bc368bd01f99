"""sticky-receiver: the wire shows two segments, the application reads them in one recv()."""
from __future__ import annotations

import time

from analyzer.lab.scenarios.analysis import app_calls, conv_by_client_port, data_packets, port_of
from analyzer.lab.scenarios.base import bpf_ports
from analyzer.lab.scenarios.peers import AppConn

NAME = "sticky-receiver"
SIDECAR = True    # the lab records every send()/recv() beside the capture
TITLE = "Receiver-side sticky packets: two segments, one recv()"
DEMONSTRATES = ("The client sends 'hello' and 'world' as two segments; the server sleeps "
                "50 ms before its first recv(65536) and gets 'helloworld' in one read. The "
                "capture cannot show this, so the server records each recv() in a sidecar "
                "beside the pcap.")
EXPLANATION = (
    "The receiving kernel appends every arriving segment to the socket's receive buffer; "
    "recv() returns whatever is in that buffer, up to the size asked for. If the application "
    "is slow to read, several segments are waiting and one recv() returns them all: the "
    "application sees one 'message' where the sender made two send() calls. Nothing on the "
    "wire changed; only the timing of the reads. That is why a receiver must frame messages "
    "itself instead of trusting one recv() = one message.")
DELAY = 0.05


def traffic(lab, opts) -> dict:
    server = lab.reference_server("chat", 9000, first_read_delay=DELAY)
    port = server.port
    with lab.capture(bpf_ports("tcp", [port])):
        c = AppConn.connect(port, lab.appio)
        c.send(b"hello")
        c.send(b"world")
        c.recv_exactly(10)
        c.close()
        time.sleep(0.05)              # the server sees the FIN and closes its side
    return {"server_port": port, "client_port": port_of(c.client), "decode_as": {port: "chat"}}


def analyze(eng, ctx):
    conv = conv_by_client_port(eng, ctx["client_port"])
    if conv is None:
        return ["the connection was not captured"], {}, False
    sidecar = ctx.get("sidecar_records")
    segs = data_packets(eng, conv, "c2s")
    sends = app_calls(sidecar, conv, "client", "send")
    reads = app_calls(sidecar, conv, "server", "recv")
    seg_lens = [eng.decoded(n).payload_len for n in segs]
    found = [f"conversation {conv.id}: the client made {len(sends)} send() calls "
             f"({', '.join(str(r.length) for r in sends)} bytes)",
             f"on the wire: {len(segs)} data segment(s) client->server, packets "
             f"{', '.join(map(str, segs))} ({', '.join(map(str, seg_lens))} bytes)",
             f"in the server application: {len(reads)} recv() call(s) returning "
             f"{', '.join(str(r.length) for r in reads)} bytes"]
    facts = {"conversation": conv.id, "send_calls": [r.length for r in sends],
             "wire_segments": seg_lens, "recv_calls": [r.length for r in reads]}
    ok = len(segs) >= 2 and len(reads) < len(segs)
    if ok:
        found.append(f"{len(segs)} segments were read by {len(reads)} recv(): receiver-side sticking")
    return found, facts, ok
