"""analyzer.render.explain: plain sentences from real engine data on the crafted lenmsg capture."""
from __future__ import annotations

import pytest

from analyzer.engine import analyze_file
from analyzer.render.explain import explain_conversation, explain_packet


@pytest.fixture(scope="module")
def eng(lenmsg_pcap):
    return analyze_file(lenmsg_pcap)


@pytest.mark.parametrize("n, words", [
    (1, ["SYN", "step 1 of the three-way handshake", "the client"]),
    (2, ["SYN-ACK", "the server"]),
    (3, ["completes the three-way handshake"]),
    (4, ["exactly one whole lenmsg message (#0)"]),
    (6, ["2 application messages (#2, #3)", "Nagle", "4-byte length"]),
    (8, ["Message #6 (29 bytes) starts here but continues in packet(s) 9", "loop on recv()"]),
    (9, ["completes message #6, which began in packet 8"]),
    (11, ["retransmission"]),
    (13, ["FIN", "the client", "half-close"]),
    (12, ["pure ACK"]),
    (16, ["UDP datagram", "never sticks"]),
])
def test_packet_explanations(eng, n, words):
    text = " ".join(explain_packet(eng, n))
    for w in words:
        assert w in text, (n, w, text)


def test_plain_data_packet_is_not_called_coalesced(eng):
    text = " ".join(explain_packet(eng, 4))
    assert "Nagle" not in text and "retransmission" not in text


def test_conversation_explanation(eng):
    conv = eng.conversation("tcp", 0)
    text = " ".join(explain_conversation(eng, conv))
    assert "client 127.0.0.1:40000 and server 127.0.0.1:9001" in text
    assert "handshake completed in packets 1, 2, 3" in text
    assert "Zeek state SF" in text
    assert "8 application messages" in text
    assert "2 packet(s) carry more than one message (e.g. packet 6)" in text
    assert "1 message(s) were split" in text
    assert "retransmission ×1" in text
    udp = " ".join(explain_conversation(eng, eng.conversation("udp", 0)))
    assert udp.startswith("UDP conversation 0") and "handshake" not in udp


def test_unframed_chat_is_not_called_harmless(tmp_path):
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "captures", "sticky-sender.pcap")
    if not os.path.exists(path):
        pytest.skip("bundled capture missing")
    eng = analyze_file(path)
    conv = eng.conversation("tcp", 0)
    assert conv.coalesced_packets
    n = conv.coalesced_packets[0]
    text = " ".join(explain_packet(eng, n))
    assert "Only by luck" in text and "can still separate" not in text
    text = " ".join(explain_conversation(eng, conv))
    assert "it matters" in text and "harmless" not in text
