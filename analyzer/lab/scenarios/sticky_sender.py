"""sticky-sender: Nagle's algorithm glues small sends into one segment; TCP_NODELAY does not."""
from __future__ import annotations

from analyzer.lab.scenarios.analysis import conv_by_client_port, messages, port_of
from analyzer.lab.scenarios.base import bpf_ports
from analyzer.lab.scenarios.peers import AppConn, ForkedServer, upper_echo

NAME = "sticky-sender"
SIDECAR = True    # the lab records every send()/recv() beside the capture
TITLE = "Sender-side sticky packets: Nagle coalescing vs TCP_NODELAY"
DEMONSTRATES = ("Four small messages sent back to back (after a few request/reply rounds) "
                "travel in fewer segments than send() calls with Nagle on: several messages "
                "share one packet. The same client with TCP_NODELAY sends one segment per "
                "send().")
EXPLANATION = (
    "TCP is a byte stream, not a message stream. With Nagle's algorithm (the default) the "
    "kernel sends the first small piece at once, then holds further small pieces while that "
    "one is unacknowledged and sends them together: messages 2-4 arrive in one segment. "
    "(The server here takes 5 ms to answer, and after a few rounds its ACK waits for the "
    "answer - delayed ACK - so the first message stays unacknowledged that long.) "
    "TCP_NODELAY switches Nagle off, so each send() leaves at once in its own segment. "
    "Either way the receiver gets bytes, not messages: a protocol must mark its own "
    "boundaries (a length prefix, a delimiter).")
ROUNDS = 3
THINK = 0.005      # the server thinks 5 ms before each read: its ACK waits for the answer
BURST = (b"msg 1\n", b"msg 2\n", b"msg 3\n", b"msg 4\n")


def sticky_client(port: int, appio, nodelay: bool, burst=BURST, rounds: int = ROUNDS) -> int:
    """A few ping/pong rounds, then the burst back to back; returns the client port."""
    c = AppConn.connect(port, appio, nodelay=nodelay)
    for i in range(rounds):
        q = b"ping %d\n" % i
        c.send(q)
        c.recv_exactly(len(q))
    for m in burst:
        c.send(m)
    c.recv_exactly(sum(len(m) for m in burst))
    c.close()
    return port_of(c.client)


def traffic(lab, opts) -> dict:
    listener = lab.tcp_listener(default=9000)
    port = listener.getsockname()[1]
    server = ForkedServer(listener, upper_echo(read_delay=THINK), lab.sidecar, max_conns=2)
    lab.on_close(server.stop)
    with lab.capture(bpf_ports("tcp", [port])):
        nagle = sticky_client(port, lab.appio, nodelay=False)
        nodelay = sticky_client(port, lab.appio, nodelay=True)
        server.join(5)
    return {"server_port": port, "client_ports": {"nagle": nagle, "nodelay": nodelay},
            "decode_as": {port: "chat"}}


def _text(m) -> str:
    """A message's text as a short quoted string (from the codec's fields or summary)."""
    text = (m.fields or {}).get("text")
    if isinstance(text, str):
        return repr(text)
    return m.summary or f"{m.length} bytes"


def coalesced_report(eng, ctx, label_of=lambda k: k):
    found, facts = [], {}
    for key, cport in ctx["client_ports"].items():
        conv = conv_by_client_port(eng, cport)
        if conv is None:
            found.append(f"{label_of(key)}: conversation not found")
            facts[key] = None
            continue
        c2s = messages(conv, "c2s")
        facts[key] = {"conversation": conv.id, "coalesced_packets": list(conv.coalesced_packets),
                      "c2s_messages": len(c2s)}
        if conv.coalesced_packets:
            detail = []
            for n in conv.coalesced_packets[:5]:
                ms = [m for m in conv.messages if n in m.packets]
                texts = ", ".join(_text(m) for m in ms)
                detail.append(f"packet {n} carries {len(ms)} messages ({texts})")
            found.append(f"{label_of(key)} (conversation {conv.id}): "
                         f"{len(conv.coalesced_packets)} coalesced packet(s): " + "; ".join(detail))
        else:
            found.append(f"{label_of(key)} (conversation {conv.id}): no coalesced packets, "
                         f"{len(c2s)} client messages each in its own segment(s)")
    return found, facts


def analyze(eng, ctx):
    found, facts = coalesced_report(eng, ctx, {"nagle": "Nagle (default)",
                                               "nodelay": "TCP_NODELAY"}.get)
    ok = bool(facts.get("nagle") and facts["nagle"]["coalesced_packets"]) and bool(
        facts.get("nodelay") is not None and not facts["nodelay"]["coalesced_packets"])
    return found, facts, ok
