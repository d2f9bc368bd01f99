"""The engine's per-packet loop: Records in (`feed_records`), each packet's columns appended
and the packet passed into its conversation's state (`into_conversation`: reassembly,
message cutting).  Everything rarer (new conversations, loopback twins, live frames kept,
bringing back packed conversations, UDP datagrams) is a method of
analyzer.engine.core.EngineCore, called from here; closed conversations are packed by
analyzer.engine.retired.finish_and_pack.

Kept apart from the core so setup.py compiles it as a twin: with the C types of feeding.pxd
the decoder's result, the flow table, the flow and the reassembler are C structs here, read
and called without Python objects in between.
"""
from __future__ import annotations

import analyzer.decode.frame as frame
from analyzer.decode.decoded import FIN, SYN, Decoded
from analyzer.engine.constants import (COOKED_HEADER, ENGINE_BITS, LOOPBACK_DUP, MALFORMED,
                                       SIZE_LIMITED)
from analyzer.engine.retired import finish_and_pack
from analyzer.sources.record import RecordColumns
from analyzer.transport.analysis_flags import analysis_list
from dissectors.arrays import append  # the twin cimports it (setup.py)


def feed_records(core, records) -> int:
    """Feed every Record of `records` into `core` (an EngineCore whose lock the caller holds);
    returns how many.  `records`: a RecordColumns (the pcap reader's batches), a list or
    tuple of Records, or any iterable of them (taken one at a time: a generator may act
    between two records, as the Dask partitions' does)."""
    idx = core.index
    full = not core.summary_only        # else the view-only columns stay empty
    columns = [idx.ts, idx.offset, idx.caplen, idx.origlen, idx.linktype, idx.analysis]
    if full:
        columns += [idx.tcp_flags, idx.payload_len, idx.stream, core.flow_kind, idx.direction]
    flows = core.flows
    state_of_flow = core._state_of_flow
    pack_closed = core.pack_closed
    undecoded = core.undecoded
    keep = core.keep_frames
    outgoing = core._outgoing is not None       # the previous frame was a cooked outgoing copy
    in_columns = type(records) is RecordColumns
    sized = in_columns or isinstance(records, (list, tuple))
    count = len(records) if sized else -1
    start = i = end = len(idx.ts)               # rows: next to fill, end of the rows made
    grow = count if sized else 64
    # the rows are made a chunk at a time (zeros: all at once when the count is known) and
    # filled in place: in the twin through typed views of the arrays, with no Python int per
    # column (their appends cost ~0.6 us a packet); the rows not filled are cut off at the end
    v_ts = v_off = v_cap = v_orig = v_link = v_bits = None
    v_flags = v_plen = v_stream = v_kind = v_dir = None
    c_ts = c_link = c_orig = c_off = None
    frames = records
    if in_columns:
        c_ts, c_link, c_orig, c_off = records.ts, records.linktype, records.origlen, records.offset
        frames = records.data
    elif not sized:
        frames = iter(records)
    scratch = Decoded()                 # filled by the decoder's fast path, packet after packet
    k = 0
    try:
        while True:
            if in_columns:
                if k == count:
                    break
                ts, linktype, data = c_ts[k], c_link[k], frames[k]
                origlen, offset = c_orig[k], c_off[k]
            elif sized:
                if k == count:
                    break
                ts, linktype, data, origlen, offset = frames[k]
            else:
                rec = next(frames, None)
                if rec is None:
                    break
                ts, linktype, data, origlen, offset = rec
            k += 1
            if i == end:
                v_ts = v_off = v_cap = v_orig = v_link = v_bits = None
                v_flags = v_plen = v_stream = v_kind = v_dir = None
                for col in columns:
                    if grow == 1:
                        col.append(0)
                    else:
                        col.frombytes(bytes(grow * col.itemsize))
                end += grow
                grow = max(64, min(grow * 2, 4096))
                v_ts, v_off, v_cap, v_orig = idx.ts, idx.offset, idx.caplen, idx.origlen
                v_link, v_bits = idx.linktype, idx.analysis
                if full:
                    v_flags, v_plen, v_stream = idx.tcp_flags, idx.payload_len, idx.stream
                    v_kind, v_dir = core.flow_kind, idx.direction
            n = i + 1
            i = n
            if n == 1:
                core.first_ts = ts
            v_ts[n - 1] = ts
            v_off[n - 1] = offset
            v_cap[n - 1] = len(data)
            v_orig[n - 1] = origlen
            v_link[n - 1] = linktype
            if keep or offset < 0:
                core.keep_frame(n, data)
                keep = True
            out = None
            if linktype in COOKED_HEADER:
                twin_of, out = core._cooked_copy(linktype, data)
                outgoing = out is not None
                if twin_of is not None:         # set aside, with the original's columns
                    v_bits[n - 1] = LOOPBACK_DUP
                    if full:
                        v_flags[n - 1] = twin_of[2]
                        v_plen[n - 1] = twin_of[3]
                        v_stream[n - 1] = twin_of[4]
                        v_kind[n - 1] = twin_of[5]
                        v_dir[n - 1] = twin_of[6]
                    continue
            elif outgoing:
                core._outgoing = None
                outgoing = False
            d = frame.decode_frame(linktype, data, origlen, False, scratch)
            flags = d.flags
            plen_hdr = d.payload_len
            if plen_hdr < 0:
                plen_hdr = 0
            if full:
                v_flags[n - 1] = flags
                v_plen[n - 1] = plen_hdr
            if out is not None:
                out[2], out[3] = flags, plen_hdr
            bits = MALFORMED if d.malformed else 0
            tr = d.transport
            found = None
            if (tr == "tcp" or tr == "udp") and d.payload_offset >= 0:
                found = flows.place(n, ts, d)
            if found is None:
                v_bits[n - 1] = bits
                if full:
                    v_stream[n - 1] = -1
                    v_dir[n - 1] = -1
                why = d.undecoded
                if why is not None:
                    undecoded[why] = undecoded.get(why, 0) + 1
                continue
            if flows.direction < 0:     # the 4-tuple of a packed conversation: back in use
                core._unpack_for_feeding(found)
                found = flows.place(n, ts, d)
            flow = found
            direction, fbits = flows.direction, flows.bits
            bits = into_conversation(core, state_of_flow, n, data, d, flow, direction,
                                     bits | fbits)
            kind = (1 if tr == "tcp" else 3) + direction
            if out is not None:
                out[4], out[5], out[6] = flow.id, kind, direction
            v_bits[n - 1] = bits
            if full:
                v_kind[n - 1] = kind
                v_stream[n - 1] = flow.id
                v_dir[n - 1] = direction
            if flow.closed and pack_closed:
                finish_and_pack(core, state_of_flow[flow])
    finally:
        v_ts = v_off = v_cap = v_orig = v_link = v_bits = None
        v_flags = v_plen = v_stream = v_kind = v_dir = None
        c_ts = c_link = c_orig = c_off = None
        if i < end:
            for col in columns:
                del col[i:]
    return i - start


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
        append(cs.pkts, n)
        r = cs.reasm[direction]
        if plen:
            po = d.payload_offset
            m = cs.mappers[direction] if cs.decided else None
            off = -1 if m is None else r.take_next(n, d.seq, flags, plen)
            if off >= 0:        # the next bytes in order: to the message cutter (r.on_data)
                m.data_in(off, n, data, po, po + plen)
            else:
                bits |= r.segment(n, d.seq, flags, data[po: po + plen])
            if plen < plen_hdr:
                bits |= SIZE_LIMITED
                r.truncated(d.seq, flags, plen, plen_hdr)
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
