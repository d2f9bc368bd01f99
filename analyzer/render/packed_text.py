"""A packed TCP conversation of the summary JSON written straight from its blob
(analyzer.engine.retired), when it has no findings.  The compiled twin of
analyzer.render.summary_json cimports the C version instead (analyzer/render/c_packed_text.pxd:
the blob's items read where they lie, the text written into one buffer, no Python object made
for them)."""
from __future__ import annotations

import marshal

from analyzer.engine.conv_blob import CONV, FLOW, HANDSHAKE, REASM, TCP, TEARDOWN
from analyzer.engine.retired import coalesced_view, message_views
from analyzer.render.json_lists import conv_text
from analyzer.transport.flows import endpoint_text


def packed_text(cid, protocol, head, blob, analysis_texts, choice):
    """conv_text of a packed TCP conversation (analyzer.engine.retired: its id, protocol, head
    and blob) without malformed messages or gaps; `analysis_texts`: the text of the analysis
    counts by analysis_key.  None for any other, or when `analysis_texts` does not hold the
    conversation's (the caller writes it from retired.summary_facts)."""
    v = marshal.loads(blob)
    if v[CONV + 6] or v[REASM[0] + 2] or v[REASM[1] + 2]:
        return None
    analysis = analysis_texts.get(analysis_key(v[FLOW + 7], v[CONV + 9]))
    if analysis is None:
        return None
    ci, cp, si, sp = marshal.loads(head)[:4]
    arrays = message_views(v)
    first, last, packets, b1, b2, start, end = v[FLOW:FLOW + 7]
    return conv_text(cid, "tcp", endpoint_text((ci, cp)), endpoint_text((si, sp)), v[FLOW + 8],
                     v[FLOW + 9], v[HANDSHAKE:TEARDOWN], v[TEARDOWN:TCP], protocol, first, last,
                     start, end, packets, b1, b2, len(arrays[0]), arrays, {}, coalesced_view(v),
                     analysis, (), (), choice)


def analysis_key(nonzero: tuple, own: tuple) -> bytes:
    """A packed conversation's analysis counts (the flow's nonzero ones, the engine's own) as
    they lie in its blob: what packed_text looks their text up by."""
    return marshal.dumps(nonzero, 2) + marshal.dumps(own, 2)
