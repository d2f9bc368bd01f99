"""infer: a student's own protocol (2-byte type + 4-byte little-endian length + payload) on a
port wirelab knows nothing about, recognised from the bytes alone."""
from __future__ import annotations

import struct
import time

from analyzer.lab.scenarios.analysis import conv_by_client_port, messages, port_of
from analyzer.lab.scenarios.base import bpf_ports
from analyzer.lab.scenarios.peers import AppConn, ForkedServer

NAME = "infer"
TITLE = "Inferring the framing of a protocol wirelab has never seen"
DEMONSTRATES = ("A student's protocol: each message is a 2-byte message type, a 4-byte "
                "little-endian length (struct.pack('<HI', type, n)), then n bytes. No codec, no "
                "sidecar, no --decode-as: wirelab tries length fields of every size, byte "
                "order and offset, delimiters and record sizes, and keeps the one that explains "
                "every byte of each direction.")
EXPLANATION = (
    "Every TCP application frames its own messages. Only one reading of these bytes makes "
    "each length field land exactly on the next header and the last one on the end of the "
    "stream, and the sender's pushes (segment ends) fall on those message ends far more "
    "often than chance. wirelab reports that framing in words, with a confidence, and "
    "cuts the messages with it - coalesced segments included - as it would for a protocol "
    "it knows. `--decode-as PORT=len:4:le:offset=2` states the same framing by hand, and "
    "`wirelab export-lua --framing len:4:le:offset=2 --port PORT` gives Wireshark the "
    "same messages.")
SIDECAR = False
WANT = "len:4:le:offset=2"
THINK = 0.02
TYPES = (1, 2, 3, 1, 2, 1, 3, 2)


def _message(kind: int, payload: bytes) -> bytes:
    return struct.pack("<HI", kind, len(payload)) + payload


def _recv_message(conn: AppConn) -> tuple[int, bytes] | None:
    head = conn.recv_exactly(6)
    if len(head) < 6:
        return None
    kind, n = struct.unpack("<HI", head)
    return kind, conn.recv_exactly(n)


def student_server(conn: AppConn) -> None:
    """Answers every message with type + 100 and the payload reversed."""
    while True:
        got = _recv_message(conn)
        if got is None:
            return
        kind, payload = got
        conn.send(_message(kind + 100, payload[::-1]))


def traffic(lab, opts) -> dict:
    listener = lab.tcp_listener(default=7006)
    port = listener.getsockname()[1]
    server = ForkedServer(listener, student_server, None, max_conns=1)
    lab.on_close(server.stop)
    sent = [b"hello %d " % i + b"x" * (7 * i * i) for i in range(len(TYPES))]
    with lab.capture(bpf_ports("tcp", [port])):
        c = AppConn.connect(port, None)
        for kind, payload in zip(TYPES[:4], sent[:4]):      # request, reply, ...
            c.send(_message(kind, payload))
            _recv_message(c)
            time.sleep(THINK)
        for kind, payload in zip(TYPES[4:], sent[4:]):      # then a burst: Nagle coalesces
            c.send(_message(kind, payload))
        for _ in sent[4:]:
            _recv_message(c)
        c.close()
        server.join(5)
    return {"server_port": port, "client_port": port_of(c.client),
            "sent_lengths": [6 + len(p) for p in sent], "decode_as": {}}


def analyze(eng, ctx):
    conv = conv_by_client_port(eng, ctx["client_port"])
    if conv is None:
        return ["the connection was not captured"], {}, False
    choice = eng.protocols.choice_of((conv.transport, conv.id)) or {}
    framing = choice.get("framing") or {}
    c2s = framing.get("c2s") or {}
    s2c = framing.get("s2c") or {}
    got = [m.length for m in messages(conv, "c2s")]
    found = [f"conversation {conv.id}: protocol {conv.protocol}",
             f"client -> server: {c2s.get('text', 'not inferred')} "
             f"(confidence {c2s.get('confidence', 0):.2f}, framing {c2s.get('framing')})",
             f"server -> client: {s2c.get('text', 'not inferred')} "
             f"(confidence {s2c.get('confidence', 0):.2f})",
             f"client messages cut: lengths {got}; the client sent {ctx['sent_lengths']}",
             f"coalesced packets: {list(conv.coalesced_packets) or 'none'}"]
    ok = (conv.protocol == "inferred" and c2s.get("framing") == WANT
          and got == ctx["sent_lengths"] and s2c.get("framing") == WANT)
    found.append("framing recognised, every boundary exact" if ok
                 else "framing NOT recognised exactly")
    facts = {"conversation": conv.id, "protocol": conv.protocol, "framing": framing,
             "c2s_lengths": got, "sent_lengths": ctx["sent_lengths"],
             "coalesced_packets": list(conv.coalesced_packets), "exact": ok}
    return found, facts, ok
