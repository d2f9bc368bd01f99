"""auth: challenge-response client legitimacy, good and bad answers for each variant."""
from __future__ import annotations

import time

from dissectors import auth as authcodec

from analyzer.engine.auth_check import AuthChecker
from analyzer.lab.scenarios.analysis import conv_by_client_port, port_of, stream_bytes
from analyzer.lab.scenarios.base import bpf_ports
from analyzer.lab.scenarios.peers import AppConn

NAME = "auth"
SIDECAR = True    # the lab records every send()/recv() beside the capture
TITLE = "Challenge-response auth: accepted, rejected, replayed answers"
DEMONSTRATES = ("For each variant (md5-hex, hmac-md5, hmac-sha256) one client answers the "
                "server's 32-byte challenge with the right secret and one with a wrong one; "
                "a last client replays a recorded good answer on a new connection. "
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


def auth_client(port: int, appio, variant: str, secret: bytes,
                replay: bytes | None = None) -> tuple[int, bool, bytes]:
    """One client: answers the challenge with `secret` (or sends the recorded `replay`).
    Returns (client port, whether the server went on to chat, the answer sent)."""
    c = AppConn.connect(port, appio)
    challenge = c.recv_exactly(authcodec.CHALLENGE_SIZE)
    answer = replay if replay is not None else authcodec.compute_answer(secret, challenge, variant)
    c.send(answer)
    accepted = True
    try:
        c.send(b"hello after auth\n")
        accepted = c.recv_exactly(17) == b"HELLO AFTER AUTH\n"
    except (ConnectionError, OSError):
        accepted = False
    c.close()
    return port_of(c.client), accepted, answer


def traffic(lab, opts) -> dict:
    servers, runs = {}, []
    for variant in authcodec.VARIANTS:   # one reference server per variant
        default = 9003 if variant == authcodec.DEFAULT_VARIANT else None
        servers[variant] = lab.reference_server("auth", default, secret=SECRET, variant=variant)
    ports = {v: s.port for v, s in servers.items()}
    with lab.capture(bpf_ports("tcp", ports.values())):
        recorded = b""
        for variant in authcodec.VARIANTS:
            for label, secret in (("good", SECRET), ("bad", WRONG)):
                cport, accepted, answer = auth_client(ports[variant], lab.appio, variant, secret)
                runs.append({"variant": variant, "answer": label, "client_port": cport,
                             "client_saw_accept": accepted})
                if variant == authcodec.DEFAULT_VARIANT and label == "good":
                    recorded = answer
        variant = authcodec.DEFAULT_VARIANT      # an eavesdropper sends that answer again
        cport, accepted, _ = auth_client(ports[variant], lab.appio, variant, b"", recorded)
        runs.append({"variant": variant, "answer": "replay", "client_port": cport,
                     "client_saw_accept": accepted})
        time.sleep(0.05)              # the servers see the last FIN and close their side
    return {"ports": ports, "runs": runs, "secret": SECRET.decode(),
            "decode_as": {p: f"auth:{v}" for v, p in ports.items()}}


EXPECTED_VERDICT = {"good": "accepted", "bad": "rejected", "replay": "replayed"}


def analyze(eng, ctx):
    secret = ctx["secret"].encode()
    checker = AuthChecker(secret)        # what `wirelab summary --secret-file` reports
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
        verdict = checker.verdict(eng, conv).verdict
        consistent = (accepted == valid == (run["answer"] == "good")
                      and verdict == EXPECTED_VERDICT[run["answer"]])
        ok = ok and consistent
        facts["connections"].append({"conversation": conv.id, "variant": v,
                                     "answer": run["answer"], "accepted": accepted,
                                     "answer_valid": valid, "verdict": verdict,
                                     "protocol": conv.protocol})
        found.append(f"conversation {conv.id} {v:<11} {run['answer']:>6} answer: "
                     f"{'ACCEPTED (server went on to chat)' if accepted else 'REJECTED (server closed)'}"
                     f"; recomputed with the secret: answer {'valid' if valid else 'invalid'}"
                     f"; wirelab's verdict: {verdict}")
    return found, facts, ok
