"""auth: challenge-response client legitimacy, good and bad answers for each variant."""
from __future__ import annotations

import time

from dissectors import auth as authcodec

from analyzer.lab.scenarios.analysis import conv_by_client_port, port_of, stream_bytes
from analyzer.lab.scenarios.base import bpf_ports
from analyzer.lab.scenarios.peers import AppConn

NAME = "auth"
SIDECAR = True    # the lab records every send()/recv() beside the capture
TITLE = "Challenge-response authentication: accepted and rejected answers"
DEMONSTRATES = ("For each variant (md5-hex, hmac-md5, hmac-sha256) one client answers the "
                "server's 32-byte challenge with the right secret and one with a wrong one. "
                "The analysis tells which were accepted (the server went on to chat) and, "
                "given the secret, recomputes every answer from the captured challenge.")
EXPLANATION = (
    "The server proves nothing by itself and the secret never crosses the wire: it sends a "
    "fresh random challenge, and only a client knowing the secret can compute the digest of "
    "secret and challenge. A new challenge per connection makes a recorded answer useless "
    "later (no replay). md5(secret + challenge) is the classic lecture code; HMAC is the "
    "proper construction and HMAC-SHA256 the recommended one. Anyone holding the capture and "
    "the secret can check each answer, as this report does.")
SECRET = b"wirelab-lab-secret"
WRONG = b"not-the-secret"


def auth_client(port: int, appio, variant: str, secret: bytes) -> tuple[int, bool]:
    c = AppConn.connect(port, appio)
    challenge = c.recv_exactly(authcodec.CHALLENGE_SIZE)
    c.send(authcodec.compute_answer(secret, challenge, variant))
    accepted = True
    try:
        c.send(b"hello after auth\n")
        accepted = c.recv_exactly(17) == b"HELLO AFTER AUTH\n"
    except (ConnectionError, OSError):
        accepted = False
    c.close()
    return port_of(c.client), accepted


def traffic(lab, opts) -> dict:
    servers, runs = {}, []
    for variant in authcodec.VARIANTS:   # one reference server per variant
        default = 9003 if variant == authcodec.DEFAULT_VARIANT else None
        servers[variant] = lab.reference_server("auth", default, secret=SECRET, variant=variant)
    ports = {v: s.port for v, s in servers.items()}
    with lab.capture(bpf_ports("tcp", ports.values())):
        for variant in authcodec.VARIANTS:
            for label, secret in (("good", SECRET), ("bad", WRONG)):
                cport, accepted = auth_client(ports[variant], lab.appio, variant, secret)
                runs.append({"variant": variant, "answer": label, "client_port": cport,
                             "client_saw_accept": accepted})
        time.sleep(0.05)              # the servers see the last FIN and close their side
    return {"ports": ports, "runs": runs, "secret": SECRET.decode(),
            "decode_as": {p: f"auth:{v}" for v, p in ports.items()}}


def analyze(eng, ctx):
    secret = ctx["secret"].encode()
    found, facts, ok = [], {"connections": []}, True
    for run in ctx["runs"]:
        conv = conv_by_client_port(eng, run["client_port"])
        if conv is None:
            found.append(f"{run['variant']} {run['answer']}: not captured")
            ok = False
            continue
        v = run["variant"]
        size = authcodec.ANSWER_SIZE[v]
        s2c, c2s = stream_bytes(eng, conv, "s2c"), stream_bytes(eng, conv, "c2s")
        challenge, answer = s2c[:32], c2s[:size]
        # accepted = the server went on talking after the challenge (chat replies)
        accepted = len(s2c) > 32
        valid = len(challenge) == 32 and authcodec.verify(secret, challenge, answer, v)
        consistent = accepted == valid == (run["answer"] == "good")
        ok = ok and consistent
        facts["connections"].append({"conversation": conv.id, "variant": v,
                                     "answer": run["answer"], "accepted": accepted,
                                     "answer_valid": valid, "protocol": conv.protocol})
        found.append(f"conversation {conv.id} {v:<11} {run['answer']:>4} answer: "
                     f"{'ACCEPTED (server went on to chat)' if accepted else 'REJECTED (server closed)'}"
                     f"; recomputed with the secret: answer {'valid' if valid else 'invalid'}")
    return found, facts, ok
