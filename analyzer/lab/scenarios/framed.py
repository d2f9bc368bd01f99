"""framed: the sticky-sender traffic over lenmsg: a length prefix recovers every boundary."""
from __future__ import annotations

import time

from dissectors import lenmsg

from analyzer.lab.scenarios.analysis import conv_by_client_port, messages, port_of
from analyzer.lab.scenarios.base import bpf_ports
from analyzer.lab.scenarios.peers import AppConn, ForkedServer
from analyzer.lab.scenarios.sticky_sender import ROUNDS, THINK

NAME = "framed"
TITLE = "Framing fixes sticky packets: length-prefixed lenmsg messages"
DEMONSTRATES = ("The same traffic as sticky-sender (rounds, then four messages back to back, "
                "Nagle on), but each message carries a 4-byte length. Segments still "
                "coalesce, yet every message is recovered exactly from the capture alone, "
                "without any sidecar.")
EXPLANATION = (
    "A length prefix turns the byte stream back into messages: the receiver reads 4 bytes, "
    "learns N, then reads exactly N bytes, however the bytes were cut into segments or "
    "recv() results. Nagle still glues the small sends together on the wire; it no longer "
    "matters. (The prefix must be read with a loop too: even 4 bytes may arrive split.)")
SIDECAR = False   # boundaries come from the wire alone
BURST = (b"msg 1", b"msg 2", b"msg 3", b"msg 4")


def _recv_frame(conn: AppConn) -> bytes | None:
    head = conn.recv_exactly(4)
    if len(head) < 4:
        return None
    n = int.from_bytes(head, "big")
    return conn.recv_exactly(n)


def lenmsg_echo(conn: AppConn) -> None:
    while True:
        time.sleep(THINK)
        payload = _recv_frame(conn)
        if payload is None:
            return
        conn.send(lenmsg.encode(payload.upper()))


def traffic(lab, opts) -> dict:
    listener = lab.tcp_listener(default=9001)
    port = listener.getsockname()[1]
    server = ForkedServer(listener, lenmsg_echo, None, max_conns=1)
    lab.on_close(server.stop)
    sent = [b"ping %d" % i for i in range(ROUNDS)] + list(BURST)
    with lab.capture(bpf_ports("tcp", [port])):
        c = AppConn.connect(port, None)
        for i in range(ROUNDS):
            c.send(lenmsg.encode(sent[i]))
            _recv_frame(c)
        for m in BURST:
            c.send(lenmsg.encode(m))
        for _ in BURST:
            _recv_frame(c)
        c.close()
        server.join(5)
    return {"server_port": port, "client_port": port_of(c.client),
            "sent": [m.decode() for m in sent], "decode_as": {port: "lenmsg"}}


def analyze(eng, ctx):
    conv = conv_by_client_port(eng, ctx["client_port"])
    if conv is None:
        return ["the connection was not captured"], {}, False
    c2s = messages(conv, "c2s")
    got_lengths = [m.length for m in c2s]
    want_lengths = [4 + len(m) for m in ctx["sent"]]
    found = [f"conversation {conv.id}: protocol {conv.protocol}, {len(c2s)} client messages "
             f"decoded (lengths {got_lengths}), the client sent {len(want_lengths)} "
             f"(lengths {want_lengths})",
             f"coalesced packets: {list(conv.coalesced_packets) or 'none'}"
             + (" - several messages per segment, each still recovered" if conv.coalesced_packets else "")]
    exact = got_lengths == want_lengths and not any(m.malformed for m in c2s)
    found.append("boundaries recovered exactly" if exact else "boundaries NOT recovered exactly")
    facts = {"conversation": conv.id, "protocol": conv.protocol, "c2s_lengths": got_lengths,
             "sent_lengths": want_lengths, "coalesced_packets": list(conv.coalesced_packets),
             "exact": exact}
    return found, facts, exact
