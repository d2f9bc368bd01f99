"""The engine's per-packet loop: Records in (`feed_records`), each packet's columns appended
and the packet passed into its conversation's state (`into_conversation`: reassembly,
message cutting).  Everything rarer (new conversations, loopback twins, live frames kept,
packing and bringing back closed conversations, UDP datagrams) is a method of
analyzer.engine.core.EngineCore, called from here.

Kept apart from the core so setup.py compiles it as a twin: with the C types of feeding.pxd
the decoder's result, the flow table, the flow and the reassembler are C structs here, read
and called without Python objects in between.
"""
from __future__ import annotations

import analyzer.decode.frame as frame
from analyzer.decode.decoded import FIN, SYN
from analyzer.engine.constants import (COOKED_HEADER, ENGINE_BITS, LOOPBACK_DUP, MALFORMED,
                                       SIZE_LIMITED)
from analyzer.transport.analysis_flags import analysis_list


def feed_records(core, records) -> int:
    """Feed every Record of `records` into `core` (an EngineCore whose lock the caller holds);
    returns how many."""
    (a_ts, a_off, a_cap, a_orig, a_link, a_flags, a_plen, a_stream, a_kind, a_bits,
     a_direction) = core._appends
    ts_column = core.index.ts
    flows = core.flows
    state_of_flow = core._state_of_flow
    pack_closed = core.pack_closed
    undecoded = core.undecoded
    keep = core.keep_frames
    outgoing = core._outgoing is not None       # the previous frame was a cooked outgoing copy
    k = 0
    for rec in records:
        ts, linktype, data, origlen, offset = rec
        k += 1
        n = len(ts_column) + 1
        if n == 1:
            core.first_ts = ts
        a_ts(ts)
        a_off(offset)
        a_cap(len(data))
        a_orig(origlen)
        a_link(linktype)
        if keep or offset < 0:
            core.keep_frame(n, data)
            keep = True
        out = None
        if linktype in COOKED_HEADER:
            twin_of, out = core._cooked_copy(linktype, data)
            outgoing = out is not None
            if twin_of is not None:         # set aside, with the original's columns
                a_flags(twin_of[2])
                a_plen(twin_of[3])
                a_stream(twin_of[4])
                a_kind(twin_of[5])
                a_bits(LOOPBACK_DUP)
                a_direction(twin_of[6])
                continue
        elif outgoing:
            core._outgoing = None
            outgoing = False
        d = frame.decode_frame(linktype, data, origlen)
        flags = d.flags
        a_flags(flags)
        plen_hdr = d.payload_len
        if plen_hdr < 0:
            plen_hdr = 0
        a_plen(plen_hdr)
        if out is not None:
            out[2], out[3] = flags, plen_hdr
        bits = MALFORMED if d.malformed else 0
        tr = d.transport
        verdict = None
        if (tr == "tcp" or tr == "udp") and d.payload_offset >= 0:
            verdict = flows.add(n, ts, d)
        if verdict is None:
            a_stream(-1)
            a_kind(0)
            a_bits(bits)
            a_direction(-1)
            why = d.undecoded
            if why is not None:
                undecoded[why] = undecoded.get(why, 0) + 1
            continue
        found, direction, fbits, _new = verdict
        if direction < 0:           # the 4-tuple of a packed conversation: it is back in use
            core._unpack_for_feeding(found)
            found, direction, fbits, _new = flows.add(n, ts, d)
        flow = found
        bits = into_conversation(core, state_of_flow, n, data, d, flow, direction, bits | fbits)
        kind = (1 if tr == "tcp" else 3) + direction
        if out is not None:
            out[4], out[5], out[6] = flow.id, kind, direction
        a_kind(kind)
        a_stream(flow.id)
        a_bits(bits)
        a_direction(direction)
        if flow.closed and pack_closed:
            core._pack(state_of_flow[flow])
    return k


def into_conversation(core, state_of_flow: dict, n: int, data, d, flow, direction: int,
                      bits: int) -> int:
    """One packet into its conversation's state (reassembly, message cutting); returns its
    analysis bits.  Also what feeding a packed conversation's packets again does."""
    cs = state_of_flow.get(flow)
    if cs is None:
        cs = core._new_conv(flow)
    plen = d.captured_payload_len
    plen_hdr = d.payload_len
    if d.transport == "tcp":
        flags = d.flags
        cs.pkts.append(n)
        r = cs.reasm[direction]
        if plen:
            po = d.payload_offset
            if plen < plen_hdr:
                bits |= SIZE_LIMITED
                bits |= r.segment(n, d.seq, flags, data[po: po + plen])
                r.truncated(d.seq, flags, plen, plen_hdr)
            else:
                bits |= r.segment(n, d.seq, flags, data[po: po + plen])
        elif r.base is None or flags & (SYN | FIN) or plen_hdr:   # bare ACK: nothing to do
            r.segment(n, d.seq, flags, b"")
            if plen_hdr > 0:
                bits |= SIZE_LIMITED
                r.truncated(d.seq, flags, 0, plen_hdr)
    else:
        if plen < plen_hdr:
            bits |= SIZE_LIMITED
        po = d.payload_offset
        core._udp_datagram(cs, direction, n, data[po: po + plen])
    own = bits & ENGINE_BITS
    if own:
        counts = cs.own
        for a in analysis_list(own):
            counts[a] = counts.get(a, 0) + 1
    cs.version += 1
    return bits

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
