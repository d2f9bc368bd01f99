"""A finished TCP conversation packed (analyzer/engine/retired.py): its blob, every number
views read of it as one flat tuple (no tuple in a tuple for marshal to write and read
again), and its head, what the flow table asks of a stand-in, apart.  Both are written with
marshal's version 2, which keeps no table of the objects written (versions 3 and 4 fill and
free one for each blob) and writes an array as the bytes of its buffer.  The compiled twin
of retired.py cimports a C conv_blob and head_blob instead (analyzer/engine/c_conv_blob.pxd):
the same bytes, written straight from the fields.  analyzer/render/c_packed_text.pxd reads
the blob where it lies."""
from __future__ import annotations

import marshal

# Where each part starts in the flat tuple:
FLOW = 0        # first_packet, last_packet, packets, bytes_c2s, bytes_s2c, start_time, end_time,
                # nonzero analysis counts, state, history
HANDSHAKE = 10  # complete, frames, rtt_ms
TEARDOWN = 13   # kind, initiator, frames
TCP = 16        # window shift c2s and s2c, base sequence number c2s and s2c, initial_rtt
CONV = 21       # m_dir, m_off, m_len, m_pk, pk, coalesced, m_bad items, last packet of the
                # previous message c2s and s2c, own counts, version, pkts
REASM = (33, 40)    # each direction's base, next_off, gaps, chunk offset, packet, start, length
                    # (47 items in all)


def head_blob(f, first_preset: int) -> bytes:
    """The stand-in's head of a finished TCP flow `f` (marshal's version 2 of a flat tuple):
    client ip text and port, server ip text and port, SYN sequence number of each direction
    (or -1), the first packet's preset analysis bits."""
    (ci, cp), (si, sp) = f.client, f.server
    return marshal.dumps((ci, cp, si, sp, f.syn_base(0), f.syn_base(1), first_preset), 2)


def conv_blob(cs) -> bytes:
    """The blob of finished TCP conversation `cs` (an analyzer.engine.conv_state.ConvState
    whose flow, reassemblers and message arrays are final)."""
    f = cs.flow
    complete, hs_frames, rtt = f.handshake_facts()
    kind, initiator, td_frames = f.teardown_facts()
    r0, r1 = cs.reasm
    c0, c1 = r0.chunks, r1.chunks
    last = cs.last_pkt
    return marshal.dumps((
        f.first_packet, f.last_packet, f.packets, f.bytes_c2s, f.bytes_s2c, f.start_time,
        f.end_time, tuple([(k, v) for k, v in f.analysis_counts.items() if v]), f.state(),
        f.history(),
        complete, hs_frames, rtt,
        kind, initiator, td_frames,
        f.window_shift(0), f.window_shift(1), f.base_seq(0), f.base_seq(1), f.initial_rtt,
        cs.m_dir, cs.m_off, cs.m_len, cs.m_pk, cs.pk, cs.coalesced, tuple(cs.m_bad.items()),
        last[0], last[1], tuple(cs.own.items()), cs.version, cs.pkts,
        r0.base, r0.next_off, tuple(r0.gaps), c0.offset, c0.packet, c0.start, c0.length,
        r1.base, r1.next_off, tuple(r1.gaps), c1.offset, c1.packet, c1.start, c1.length), 2)
