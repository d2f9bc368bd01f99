"""Every teardown label the flows code can produce is explained, in explain and in the lab."""
from __future__ import annotations

import os
import re

import pytest

from analyzer.engine import analyze_file
from analyzer.render.explain import TEARDOWN, explain_conversation, explain_packet, teardown_text
from analyzer.transport import flows

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
# the kinds Flow.teardown_facts returns: (kind, initiator, frames)
KINDS = sorted(set(re.findall(r'return "([a-z-]+)", (?:who\[|None, \(\))',
                              open(flows.__file__).read())))


def test_the_flows_code_has_the_labels_we_explain():
    assert set(KINDS) == set(TEARDOWN)


@pytest.mark.parametrize("kind", KINDS)
def test_each_label_has_a_plain_sentence(kind):
    assert teardown_text(kind) != teardown_text("no-such-kind")


@pytest.fixture(scope="module")
def handshake():
    return analyze_file(os.path.join(ROOT, "captures", "handshake.pcap"))


def test_explain_conversation_says_what_the_label_means(handshake):
    for conv in handshake.conversations:
        text = " ".join(explain_conversation(handshake, conv))
        assert teardown_text(conv.teardown["kind"]) in text


def test_explain_packet_names_the_lone_ack_and_the_piggybacked_fin(handshake):
    kinds = {c.teardown["kind"]: c for c in handshake.conversations}
    four = kinds["four-way"].teardown["frames"]
    assert "step 2 of the four-way wave" in " ".join(explain_packet(handshake, four[1]))
    three = kinds["fin-ack-piggybacked"].teardown["frames"]
    assert "also acknowledges the other side's FIN" in " ".join(explain_packet(handshake, three[1]))
