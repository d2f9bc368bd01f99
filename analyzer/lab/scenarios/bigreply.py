"""bigreply: several-KB replies read with recv(1024) bleed into the next request's answer."""
from __future__ import annotations

import time

from analyzer.lab.scenarios.analysis import conv_by_client_port, messages, port_of
from analyzer.lab.scenarios.base import bpf_ports
from analyzer.lab.scenarios.peers import AppConn

NAME = "bigreply"
SIDECAR = True    # the lab records every send()/recv() beside the capture
TITLE = "Large replies read with recv(1024) bleed into the next reply"
DEMONSTRATES = ("A client asks for three reports (3000, 6000 and 600 bytes) and, like much "
                "classroom code, takes one recv(1024) as 'the reply'. The reads after the "
                "first return more of the FIRST report: the replies bleed into each other.")
EXPLANATION = (
    "recv(1024) returns at most 1024 bytes of whatever the stream holds next; it knows "
    "nothing about replies. A 3 KB reply is left mostly unread in the socket buffer, and "
    "the next 'reply' the client reads is the continuation of the previous one. The server "
    "here says how long each reply is (REPORT <name> <nbytes>): a correct client reads the "
    "header line, then loops until it has exactly nbytes.")
NAMES = ("status", "inventory", "small")     # 3000, 6000 and 600 bytes (analyzer.lab.reports)


def reply(name: str) -> bytes:
    """What the reference server answers to `GET name`."""
    from analyzer.lab.reports import report_text
    body = report_text(name) or b""
    return b"REPORT %s %d\n" % (name.encode(), len(body)) + body


def traffic(lab, opts) -> dict:
    server = lab.reference_server("bigreply", 9004)
    port = server.port
    naive_reads = []
    with lab.capture(bpf_ports("tcp", [port])):
        c = AppConn.connect(port, lab.appio)
        for name in NAMES:
            c.send(b"GET %s\n" % name.encode())
            before = c.received
            data = c.recv(1024)            # the naive "reply"
            naive_reads.append({"asked": name, "offset": before, "length": len(data)})
        total = sum(len(reply(n)) for n in NAMES)
        while c.received < total:          # drain the rest so the connection ends cleanly
            if not c.recv(1024):
                break
        c.close()
        time.sleep(0.05)              # the server sees the FIN and closes its side
    return {"server_port": port, "client_port": port_of(c.client), "naive": naive_reads,
            "reply_sizes": [len(reply(n)) for n in NAMES], "decode_as": {port: "bigreply"}}


def _owner(offset: int, bounds: list[tuple[int, int, str]]) -> list[str]:
    return [name for start, end, name in bounds if start <= offset < end]


def analyze(eng, ctx):
    conv = conv_by_client_port(eng, ctx["client_port"])
    if conv is None:
        return ["the connection was not captured"], {}, False
    s2c = messages(conv, "s2c")
    # reply boundaries: the engine's s2c messages when it decoded bigreply, else the sizes
    sizes = [m.length for m in s2c] if len(s2c) == len(NAMES) else ctx["reply_sizes"]
    bounds, off = [], 0
    for name, size in zip(NAMES, sizes):
        bounds.append((off, off + size, name))
        off += size
    found = [f"conversation {conv.id}: protocol {conv.protocol}, replies of "
             f"{', '.join(f'{n}={s} bytes' for n, s in zip(NAMES, sizes))} "
             f"(s2c messages decoded: {len(s2c)})"]
    facts = {"conversation": conv.id, "reply_sizes": sizes, "reads": []}
    bled = 0
    for r in ctx["naive"]:
        first = _owner(r["offset"], bounds)
        last = _owner(r["offset"] + r["length"] - 1, bounds)
        owners = sorted(set(first + last), key=[n for *_x, n in bounds].index)
        wrong = owners != [r["asked"]]
        bled += wrong
        facts["reads"].append({**r, "contains": owners, "bled": wrong})
        found.append(f"asked for {r['asked']!r}: recv(1024) returned bytes {r['offset']}-"
                     f"{r['offset'] + r['length'] - 1} of the stream = part of "
                     f"{' + '.join(repr(o) for o in owners)}" + ("  <- bleed" if wrong else ""))
    try:
        replay = eng.naive_reads(conv, "s2c", 1024)
        straddle = [(o, n) for o, n in replay
                    if len(set(_owner(o, bounds) + _owner(o + n - 1, bounds))) > 1]
        found.append(f"naive recv(1024) replay of the server's stream (a reader keeping up "
                     f"with each segment): {len(replay)} reads for {len(NAMES)} replies, "
                     f"{len(straddle)} straddling two replies: one recv(1024) is never a "
                     f"whole reply here")
        facts["naive_replay_reads"] = len(replay)
        facts["naive_replay_straddling"] = len(straddle)
    except (AttributeError, NotImplementedError):
        pass
    facts["bled_reads"] = bled
    return found, facts, bled >= 1
