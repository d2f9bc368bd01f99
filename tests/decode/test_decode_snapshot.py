"""decode_frame's every Decoded slot on ~210k crafted frames equals the recorded digests.

The corpus (tests/decode/snapshot.py) puts each kind of layer-3 packet under every link type,
cut at every length (with and without the original length), padded and randomly damaged; it
executes every line of analyzer/decode.  See snapshot.py to update the digests on purpose.
"""
from __future__ import annotations

import json

from analyzer.decode import decode_frame
from tests.decode import snapshot


def test_every_slot_of_every_crafted_frame_is_unchanged():
    with open(snapshot.GOLDEN, encoding="utf-8") as fh:
        golden = json.load(fh)
    now = snapshot.digests(decode_frame, snapshot.crafted())
    assert sorted(now) == sorted(golden), "the crafted corpus changed: re-run snapshot golden"
    changed = [g for g in golden if now[g] != golden[g]]
    assert not changed, f"decoded output changed for {len(changed)} groups: {changed[:15]}"
