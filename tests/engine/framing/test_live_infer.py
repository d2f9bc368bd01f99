"""Framing inference on real loopback traffic: small senders written here (TCP_NODELAY on and
off, MSG_MORE, sleeps between sends) under a live capture; the engine must cut exactly the
messages the senders wrote, from the capture alone."""
from __future__ import annotations

import random
import socket
import threading
import time

import pytest

from analyzer.engine import analyze_file
from analyzer.engine.framing import THRESHOLD
from analyzer.render.summary_json import summary_json
from analyzer.sources.live import LiveCapture, capture_rights
from tests.engine.framing.gen import message

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not capture_rights(), reason="needs root/CAP_NET_RAW")]


def _sink(listener: socket.socket, got: list) -> None:
    conn, _ = listener.accept()
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            got.append(data)


def _send(port: int, msgs: list[bytes], how: str, rng: random.Random) -> None:
    s = socket.create_connection(("127.0.0.1", port))
    if how in ("nodelay", "msg_more"):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i, m in enumerate(msgs):
        if how == "msg_more" and i % 3 != 2:
            s.send(m, socket.MSG_MORE)                 # glue up to three messages
        elif how == "split" and len(m) > 3:
            cut = rng.randrange(1, len(m))
            s.sendall(m[:cut])
            time.sleep(0.003)
            s.sendall(m[cut:])
        else:
            s.sendall(m)
        if how == "sleepy" and rng.random() < 0.5:
            time.sleep(0.002)
    s.close()


@pytest.mark.parametrize("family", ["type2_len4le", "len4be", "lf", "crlf", "lenjson",
                                    "magic_len2be_incl", "nul"])
def test_live_conversations_cut_exactly(tmp_path, family):
    pcap = str(tmp_path / "live.pcap")
    rng = random.Random(family)
    runs = []
    for how in ("nagle", "nodelay", "msg_more", "split", "sleepy"):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        runs.append((listener, how, [message(family, rng, i) for i in range(rng.randrange(6, 14))]))
    ports = [l.getsockname()[1] for l, _h, _m in runs]
    bpf = " or ".join(f"tcp port {p}" for p in ports)
    with LiveCapture("lo", bpf, write_to=pcap):
        for listener, how, msgs in runs:
            got: list = []
            t = threading.Thread(target=_sink, args=(listener, got))
            t.start()
            _send(listener.getsockname()[1], msgs, how, rng)
            t.join(10)
            listener.close()
            assert b"".join(got) == b"".join(msgs)
        time.sleep(0.5)                                # let the writer flush
    convs = summary_json(analyze_file(pcap))["conversations"]
    assert len(convs) == len(runs)
    for conv, (_l, how, msgs) in zip(convs, runs):
        lengths = [m["length"] for m in conv["messages"] if m["direction"] == "c2s"]
        assert lengths == [len(m) for m in msgs], (how, conv.get("framing"))
        assert conv["protocol"] in ("inferred", "lenmsg", "filexfer"), conv["protocol"]
        if conv["protocol"] == "inferred":
            assert conv["framing"]["c2s"]["confidence"] >= THRESHOLD or \
                conv["framing"].get("as_earlier_conversation_on_port"), (how, conv["framing"])
