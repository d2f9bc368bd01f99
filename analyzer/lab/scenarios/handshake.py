"""handshake: the three-way handshake and every way a TCP connection ends."""
from __future__ import annotations

import os
import socket
import sys
import time

from analyzer.lab.scenarios.base import bpf_ports
from analyzer.lab.scenarios.peers import AppConn
from analyzer.lab.scenarios.analysis import conv_by_client_port, describe_conv, port_of
from analyzer.render.explain import teardown_text

NAME = "handshake"
SIDECAR = True    # the lab records every send()/recv() beside the capture
TITLE = "Handshake, four-way wave, 3-packet close, half-close, RST"
DEMONSTRATES = ("Every TCP connection opens with SYN, SYN-ACK, ACK. It ends with a FIN from "
                "each side: the four-way wave FIN, ACK, FIN, ACK (client closes, server "
                "closes), its three-packet form FIN, FIN+ACK, ACK when the other side closes "
                "at once (closes-at-once), FINs that cross (simultaneous close), one side "
                "closing only its sending half (half-close), or an RST (abort, SO_LINGER 0).")
EXPLANATION = (
    "TCP is a connection: before any data, the client sends SYN, the server answers SYN-ACK, "
    "the client ACKs (three packets, one round trip). Each direction is closed on its own: a "
    "FIN means 'I will send no more', and the peer ACKs it. Whoever sends the first FIN is "
    "the active closer and ends in TIME_WAIT. If both FINs are sent before either arrives, "
    "the close is simultaneous. Four packets (FIN, ACK, FIN, ACK) show when the other side "
    "closes a moment after reading end-of-file: its kernel ACKs the FIN alone first. When it "
    "closes at once, the kernel is still holding that ACK back (a delayed ACK waits at "
    "least 40 ms for something to ride on) and sends it on its own FIN: FIN, FIN+ACK, ACK, three "
    "packets for the same four steps. shutdown(SHUT_WR) sends a FIN but keeps reading: the peer can "
    "still answer (half-close). Closing with SO_LINGER set to 0 skips all that: one RST, and "
    "the peer sees 'connection reset'.")
VARIANTS = ("client-closes", "server-closes", "closes-at-once", "simultaneous", "half-close",
            "rst")
VARIANT_HELP = {
    "client-closes": "client closes, server 60 ms after EOF: FIN, ACK, FIN, ACK",
    "server-closes": "server closes, client 60 ms after EOF: FIN, ACK, FIN, ACK",
    "closes-at-once": "client closes, server at once on EOF: FIN, FIN+ACK, ACK",
    "simultaneous": "both sides shutdown() at the same instant: the FINs cross",
    "half-close": "client shutdown(SHUT_WR)s and still reads the answer",
    "rst": "client closes with SO_LINGER 0: one RST, no FIN",
}
SIMULTANEOUS_ATTEMPTS = 20
# The passive closer waits this long after EOF before close(): longer than Linux's 40 ms
# minimum delayed-ACK timer, so the kernel ACKs the first FIN alone (measured 5/5 at >= 50 ms).
CLOSE_DELAY = 0.06
ACK_WAIT = 0.5      # at most this much longer, until the capture shows that lone ACK


def _pair(listener):
    c = socket.create_connection(listener.getsockname(), timeout=10)
    a, _ = listener.accept()
    return c, a


def _conns(lab, listener):
    c, a = _pair(listener)
    return AppConn(c, "client", lab.appio), AppConn(a, "server", lab.appio)


def _exchange(c: AppConn, s: AppConn, text: bytes) -> None:
    c.send(text)
    s.send(s.recv_exactly(len(text)).upper())
    c.recv_exactly(len(text))


def _fin_acked_alone(cap, cport: int, timeout: float) -> bool:
    """From the live capture's records: is the first FIN of this connection acknowledged by
    a packet of its own (no FIN, no data) yet?  Waits up to `timeout` seconds."""
    from analyzer.decode import decode_frame
    deadline = time.monotonic() + timeout
    while True:
        fin = None
        for rec in cap.peek():
            d = decode_frame(rec.linktype, rec.data, rec.origlen)
            if d.transport != "tcp" or cport not in (d.sport, d.dport):
                continue
            if fin is None and d.flags & 0x01:
                fin = d
            elif (fin is not None and d.sport == fin.dport and d.flags & 0x10
                  and not d.flags & 0x01 and not d.payload_len
                  and d.ack == (fin.seq + fin.payload_len + 1) & 0xFFFFFFFF):
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


def _close_after_eof(lab, conn: AppConn, cport: int, delay: float) -> None:
    """The passive closer: read end-of-file, wait `delay` seconds, close.  With a delay it
    also waits (bounded) for the kernel's lone ACK of the peer's FIN to be on the wire."""
    assert conn.recv() == b""
    if delay:
        time.sleep(delay)
        _fin_acked_alone(lab.live, cport, ACK_WAIT)
    conn.close()


def client_closes(lab, listener, delay: float = CLOSE_DELAY) -> int:
    c, s = _conns(lab, listener)
    _exchange(c, s, b"hello\n")
    c.close()
    cport = int(c.client.rsplit(":", 1)[1])
    _close_after_eof(lab, s, cport, delay)
    return cport


def server_closes(lab, listener) -> int:
    c, s = _conns(lab, listener)
    _exchange(c, s, b"bye\n")
    s.close()
    cport = int(c.client.rsplit(":", 1)[1])
    _close_after_eof(lab, c, cport, CLOSE_DELAY)
    return cport


def half_close(lab, listener) -> int:
    c, s = _conns(lab, listener)
    c.send(b"question 1\n")
    c.send(b"question 2\n")
    c.shutdown_write()                      # FIN: "I have nothing more to say"
    asked = s.recv_until_eof()              # the server reads until that FIN ...
    s.send(b"ANSWERS TO %d BYTES: " % len(asked) + asked.upper())   # ... and still answers
    s.close()
    c.recv_until_eof()
    c.close()
    return int(c.client.rsplit(":", 1)[1])


def rst_abort(lab, listener) -> int:
    c, s = _conns(lab, listener)
    _exchange(c, s, b"abort\n")
    c.abort()
    try:
        s.recv()
    except ConnectionResetError:
        pass
    s.close()
    return int(c.client.rsplit(":", 1)[1])


def _fins_crossed(cap, cport: int, timeout: float = 2.0) -> bool | None:
    """From the live capture's records: did the two FINs of this connection cross?"""
    from analyzer.decode import decode_frame
    deadline = time.monotonic() + timeout
    while True:
        fins = []
        for rec in cap.peek():
            d = decode_frame(rec.linktype, rec.data, rec.origlen)
            if d.transport == "tcp" and d.flags & 0x01 and cport in (d.sport, d.dport):
                fins.append(d)
        if len(fins) >= 2:
            f1, f2 = fins[0], fins[1]
            return f2.ack != (f1.seq + f1.payload_len + 1) & 0xFFFFFFFF
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)


def _pin(cpu: int | None, realtime: bool) -> None:
    """Best effort: run this thread on `cpu` with a real-time priority (needs root); a
    loaded machine then cannot preempt the two spinning sides at the decisive moment."""
    try:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        if realtime:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        else:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    except (OSError, AttributeError, ValueError):
        pass


def simultaneous(lab, listener) -> tuple[int, int]:
    """Both sides shutdown() at the same instant, from two processes (no GIL between them),
    until the FINs cross on the wire. Returns (client port of the crossing one, attempts)."""
    last = 0
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (OSError, AttributeError):
        cpus = []
    two = len(cpus) >= 2
    for attempt in range(1, SIMULTANEOUS_ATTEMPTS + 1):
        c, s = _conns(lab, listener)
        _exchange(c, s, b"together\n")
        now = time.time
        old_interval = sys.getswitchinterval()
        sys.setswitchinterval(1.0)        # no GIL hand-off to other threads while spinning
        at = now() + 0.01
        pid = os.fork()
        if pid == 0:  # child: only spins and calls shutdown, touches no locks
            try:
                _pin(cpus[1] if two else None, True)
                shut, how = c.sock.shutdown, socket.SHUT_WR   # bound before the spin:
                while now() < at:                          # no page faults at the moment
                    pass
                shut(how)
            finally:
                os._exit(0)
        try:
            _pin(cpus[0] if two else None, True)
            shut, how = s.sock.shutdown, socket.SHUT_WR
            while now() < at:
                pass
            shut(how)
        finally:                           # never leave this thread real-time or pinned
            _pin(None, False)
            if two:
                try:
                    os.sched_setaffinity(0, set(cpus))
                except OSError:
                    pass
            sys.setswitchinterval(old_interval)
            os.waitpid(pid, 0)
        c.recv_until_eof()
        s.recv_until_eof()
        c.close()
        s.close()
        last = int(c.client.rsplit(":", 1)[1])
        time.sleep(0.02)
        if _fins_crossed(lab.live, last):
            return last, attempt
    return last, SIMULTANEOUS_ATTEMPTS


def traffic(lab, opts) -> dict:
    variants = [opts.get("variant")] if opts.get("variant") else list(VARIANTS)
    listener = lab.tcp_listener(default=9000)
    port = listener.getsockname()[1]
    ports: dict[str, int] = {}
    attempts = 0
    with lab.capture(bpf_ports("tcp", [port]), records=True):
        for v in variants:
            if v == "client-closes":
                ports[v] = client_closes(lab, listener)
            elif v == "closes-at-once":
                ports[v] = client_closes(lab, listener, delay=0.0)
            elif v == "server-closes":
                ports[v] = server_closes(lab, listener)
            elif v == "half-close":
                ports[v] = half_close(lab, listener)
            elif v == "rst":
                ports[v] = rst_abort(lab, listener)
            elif v == "simultaneous":
                ports[v], attempts = simultaneous(lab, listener)
            time.sleep(0.02)
    return {"server_port": port, "client_ports": ports, "simultaneous_attempts": attempts,
            "decode_as": {port: "chat"}}


EXPECT = {  # variant -> (teardown kinds, initiator)
    "client-closes": (("four-way",), "client"),
    "server-closes": (("four-way",), "server"),
    "closes-at-once": (("fin-ack-piggybacked",), "client"),
    "simultaneous": (("simultaneous",), None),
    "half-close": (("half-close",), "client"),
    "rst": (("rst",), "client"),
}


def analyze(eng, ctx) -> tuple[list[str], dict, bool]:
    found, facts, ok = [], {"variants": {}}, True
    for v in [x for x in VARIANTS if x in ctx["client_ports"]]:   # teaching order
        cport = ctx["client_ports"][v]
        conv = conv_by_client_port(eng, cport)
        if conv is None:
            found.append(f"{v}: connection from port {cport} not found in the capture")
            ok = False
            continue
        hs, td = conv.handshake, conv.teardown
        kinds, initiator = EXPECT[v]
        as_expected = bool(hs.get("complete")) and td.get("kind") in kinds and (
            initiator is None or td.get("initiator") == initiator)
        ok = ok and as_expected
        facts["variants"][v] = {"conversation": conv.id, "handshake": hs, "teardown": td,
                                "teardown_packets": teardown_packets(eng, conv),
                                "state": conv.state, "history": conv.history,
                                "as_expected": as_expected}
        extra = ""
        if v == "simultaneous" and ctx.get("simultaneous_attempts", 0) > 1:
            extra = f" (FINs crossed on attempt {ctx['simultaneous_attempts']}; earlier attempts are ordinary closes)"
        steps = ", ".join(teardown_packets(eng, conv))
        found.append(f"{v}: {describe_conv(conv)}{extra}; on the wire: {steps}"
                     f" ({td.get('kind')}: {teardown_text(td.get('kind', 'none'))})"
                     + ("" if as_expected else f"  [expected teardown {' or '.join(kinds)}"
                        + (f" by {initiator}" if initiator else "") + "]"))
    return found, facts, ok


def teardown_packets(eng, conv) -> list[str]:
    """The teardown's packets as 'FIN c2s', 'ACK s2c', 'FIN+ACK s2c' ... in capture order."""
    out = []
    cport = port_of(conv.client)
    for n in conv.teardown.get("frames") or []:
        d = eng.decoded(n)
        names = [w for bit, w in ((0x01, "FIN"), (0x04, "RST")) if d.flags & bit]
        fin_or_rst = bool(names)
        if d.flags & 0x10 and (not fin_or_rst or _acks_peer_fin(eng, conv, n)):
            names.append("ACK")
        out.append("+".join(names or ["?"]) + (" c2s" if d.sport == cport else " s2c"))
    return out


def _acks_peer_fin(eng, conv, n: int) -> bool:
    """Does packet n (a FIN) also acknowledge the other side's earlier FIN?"""
    frames = conv.teardown.get("frames") or []
    return conv.teardown.get("kind") == "fin-ack-piggybacked" and len(frames) > 1 and n == frames[1]
