"""Wireshark's TCP sequence-number analysis (packet-tcp.c), per conversation, push-based.

A faithful port of `tcp_analyze_sequence_number()` and the bits of `dissect_tcp()` around it
that feed it (window scaling from the SYN options, the initial RTT used as the out-of-order
threshold, the SYN "port numbers reused" checks).  Same order of checks, same state per
direction (nextseq, maxseqtobeacked, lastack, dupacknum, window, ...), same quirks: sequence
numbers are the ABSOLUTE 32-bit values, 0 in `nextseq`/`maxseqtobeacked`/`lastack` means
"not seen yet", comparisons are modulo 2**32 except where Wireshark compares plainly.

The result of one packet is a bit set over analyzer.model.ANALYSIS_BIT.  Like tshark's
`tcp.analysis.retransmission` filter (which also matches fast and spurious retransmissions,
because Wireshark adds that expert item to them too), a fast or spurious retransmission also
carries the plain `retransmission` bit.
"""
from __future__ import annotations

from analyzer.model import ACK, ANALYSIS_BIT, FIN, RST, SYN

M32 = 0xFFFFFFFF

A_RETRANSMISSION = ANALYSIS_BIT["retransmission"]
A_FAST_RETRANSMISSION = ANALYSIS_BIT["fast_retransmission"]
A_SPURIOUS_RETRANSMISSION = ANALYSIS_BIT["spurious_retransmission"]
A_OUT_OF_ORDER = ANALYSIS_BIT["out_of_order"]
A_LOST_PACKET = ANALYSIS_BIT["lost_segment"]
A_ACK_LOST_PACKET = ANALYSIS_BIT["ack_lost_segment"]
A_DUPLICATE_ACK = ANALYSIS_BIT["duplicate_ack"]
A_ZERO_WINDOW = ANALYSIS_BIT["zero_window"]
A_ZERO_WINDOW_PROBE = ANALYSIS_BIT["zero_window_probe"]
A_KEEP_ALIVE = ANALYSIS_BIT["keep_alive"]
A_KEEP_ALIVE_ACK = ANALYSIS_BIT["keep_alive_ack"]
A_WINDOW_UPDATE = ANALYSIS_BIT["window_update"]
A_WINDOW_FULL = ANALYSIS_BIT["window_full"]
A_REUSED_PORTS = ANALYSIS_BIT["reused_ports"]
# Wireshark's TCP_A_ZERO_WINDOW_PROBE_ACK has no slot in ANALYSIS_NAMES: kept privately, so
# the "last segment was a zero window probe ack" state still works; never reported.
_A_ZERO_WINDOW_PROBE_ACK = 1 << 40

TCP_MAX_UNACKED_SEGMENTS = 10000   # Wireshark's cap on the per-direction unacked list
_FAST_RT_WINDOW_NS = 20_000_000    # fast retransmission: within 20 ms of the last dup ack
_DEFAULT_OOO_NS = 3_000_000        # out-of-order threshold before the first RTT is known
_WS_UNKNOWN, _WS_NONE = -1, -2     # win_scale: unknown / "no window scaling used"


def gt_seq(x: int, y: int) -> bool:
    """x after y, modulo 2**32 (Wireshark's GT_SEQ)."""
    d = (y - x) & M32
    return d != 0 and d >= 0x80000000


def lt_seq(x: int, y: int) -> bool:
    d = (x - y) & M32
    return d != 0 and d >= 0x80000000


def le_seq(x: int, y: int) -> bool:
    return x == y or lt_seq(x, y)


def _elapsed_ns(now: float, then: float) -> int:
    """Wireshark computes a guint64 nanosecond difference: a negative one is huge."""
    t = round((now - then) * 1e9)
    return t if t >= 0 else 1 << 64


class DirectionState:
    """tcp_flow_t + tcp_analyze_seq_flow_info_t of one direction."""

    __slots__ = ("base_seq", "base_seq_set", "saw_syn", "nextseq", "nextseqtime", "nextseqframe",
                 "maxseqtobeacked", "lastack", "lastacktime", "lastnondupack", "dupacknum",
                 "window", "win_scale", "is_first_ack", "lastsegmentflags", "segments",
                 "first_seq")

    def __init__(self) -> None:
        self.base_seq = 0
        self.base_seq_set = False
        self.saw_syn = False        # the first packet that set base_seq was a SYN / SYN-ACK
        self.first_seq: int | None = None
        self.nextseq = 0
        self.nextseqtime = 0.0
        self.nextseqframe = 0
        self.maxseqtobeacked = 0
        self.lastack = 0
        self.lastacktime = 0.0
        self.lastnondupack = 0
        self.dupacknum = 0
        self.window = M32           # G_MAXUINT32: nothing seen yet
        self.win_scale = _WS_UNKNOWN
        self.is_first_ack = False
        self.lastsegmentflags = 0
        self.segments: list[list[int]] = []   # unacked [seq, nextseq], newest last


class TcpConversationAnalysis:
    """The sequence analysis state of one tcp.stream (both directions)."""

    __slots__ = ("dirs", "ts_mru_syn", "ts_first_rtt")

    def __init__(self) -> None:
        self.dirs = (DirectionState(), DirectionState())
        self.ts_mru_syn: float | None = None
        self.ts_first_rtt: float | None = None   # seconds, Wireshark's tcp.analysis.initial_rtt

    # -- the SYN checks dissect_tcp() makes before the analysis -------------------------------
    def syn_starts_new_stream(self, direction: int, seq: int, flags: int) -> bool:
        """True when this pure SYN must open a new conversation (new ISN on a known tuple)."""
        fwd = self.dirs[direction]
        return (flags & (SYN | ACK)) == SYN and fwd.base_seq_set and seq != fwd.base_seq

    def pre_checks(self, direction: int, seq: int, flags: int) -> int:
        """Reused-ports handling for a SYN/SYN-ACK that stays in this conversation."""
        fwd = self.dirs[direction]
        bits = 0
        if (flags & (SYN | ACK)) == SYN and fwd.base_seq_set:
            # same ISN again (a SYN retransmission): restore nextseq (Wireshark issue 17616)
            fwd.nextseq = fwd.maxseqtobeacked
        elif (flags & (SYN | ACK)) == (SYN | ACK) and fwd.base_seq_set and seq != fwd.base_seq:
            fwd.base_seq = seq
            bits |= A_REUSED_PORTS
        return bits

    # -- one packet ---------------------------------------------------------------------------
    def packet(self, number: int, ts: float, direction: int, seq: int, ack: int, seglen: int,
               flags: int, window: int, wscale: int | None, preset: int = 0) -> int:
        """Analyse one TCP segment; returns its analysis bits.

        `window` is the raw header value; `wscale` the SYN's window-scale shift or None;
        `preset` bits already set on this packet (reused ports) before the analysis.
        """
        bits = self._analyze(number, ts, direction, seq, ack, seglen, flags, window, preset)
        fwd, rev = self.dirs[direction], self.dirs[1 - direction]
        if flags & SYN:
            if not flags & ACK:
                self.ts_mru_syn = ts
            fwd.is_first_ack = True
        if ((flags & (SYN | ACK)) == ACK and self.ts_mru_syn is not None
                and self.ts_first_rtt is None):
            rtt = ts - self.ts_mru_syn
            if rtt != 0:
                self.ts_first_rtt = rtt
        if (flags & (SYN | ACK)) == ACK and fwd.is_first_ack:
            fwd.is_first_ack = False
        if flags & SYN:
            if wscale is not None:
                fwd.win_scale = min(wscale, 14)
            # verify_tcp_window_scaling()
            if fwd.win_scale == _WS_UNKNOWN:
                fwd.win_scale = _WS_NONE
                rev.win_scale = _WS_NONE
            elif flags & ACK and rev.win_scale == _WS_NONE:
                fwd.win_scale = _WS_NONE
        return bits & ~_A_ZERO_WINDOW_PROBE_ACK

    def _analyze(self, number: int, ts: float, direction: int, seq: int, ack: int, seglen: int,
                 flags: int, window: int, ta: int) -> int:
        fwd, rev = self.dirs[direction], self.dirs[1 - direction]
        if fwd.first_seq is None:
            fwd.first_seq = seq
        if not fwd.base_seq_set:
            if flags & SYN:
                fwd.base_seq = seq
                fwd.saw_syn = True
            else:
                fwd.base_seq = (seq - 1) & M32
            fwd.base_seq_set = True
        if not rev.base_seq_set and flags & ACK:
            rev.base_seq = (ack - 1) & M32
            rev.base_seq_set = True

        goto_finished_fwd = False
        # ZERO WINDOW PROBE
        if seglen == 1 and seq == fwd.nextseq and rev.window == 0:
            ta |= A_ZERO_WINDOW_PROBE
            goto_finished_fwd = True
        if not goto_finished_fwd:
            nofsr = (flags & (SYN | FIN | RST)) == 0
            # ZERO WINDOW
            if window == 0 and nofsr:
                ta |= A_ZERO_WINDOW
            # LOST PACKET (previous segment not captured)
            if fwd.nextseq and gt_seq(seq, fwd.nextseq) and not flags & RST:
                ta |= A_LOST_PACKET
            # KEEP ALIVE
            if seglen <= 1 and seq == ((fwd.nextseq - 1) & M32) and nofsr:
                ta |= A_KEEP_ALIVE
            # WINDOW UPDATE
            if (seglen == 0 and window and window != fwd.window and seq == fwd.nextseq
                    and ack == fwd.lastack and nofsr):
                ta |= A_WINDOW_UPDATE
            # WINDOW FULL
            if seglen > 0 and rev.win_scale != _WS_UNKNOWN and nofsr:
                shift = 0 if (rev.is_first_ack or rev.win_scale == _WS_NONE) else rev.win_scale
                if ((seq + seglen) & M32) == ((rev.lastack + ((rev.window << shift) & M32)) & M32):
                    ta |= A_WINDOW_FULL
            same = (seglen == 0 and seq == fwd.nextseq and ack == fwd.lastack and nofsr)
            # KEEP ALIVE ACK
            if same and window and window == fwd.window and rev.lastsegmentflags & A_KEEP_ALIVE:
                ta |= A_KEEP_ALIVE_ACK
                goto_finished_fwd = True
            # ZERO WINDOW PROBE ACK
            elif (same and window == 0 and window == fwd.window
                    and rev.lastsegmentflags & A_ZERO_WINDOW_PROBE):
                ta |= _A_ZERO_WINDOW_PROBE_ACK
                goto_finished_fwd = True
            # DUPLICATE ACK
            elif same and window and window == fwd.window:
                fwd.dupacknum = 1 if fwd.dupacknum == -1 else fwd.dupacknum + 1
                ta |= A_DUPLICATE_ACK

        # finished_fwd:
        if ack != fwd.lastack:
            fwd.lastnondupack = number
            fwd.dupacknum = 0

        # ACKED LOST PACKET (ACKed segment that wasn't captured).  Wireshark 4.0's variant,
        # pinned down against tshark 4.0.17 (tests/flows/test_random_vs_tshark.py): a stale
        # maxseqtobeacked catches up with nextseq and reports; otherwise the same unseen
        # segment is reported once, dupacknum = -1 remembering it (a guint32 there, so the
        # fast retransmission test below sees it as a large count).
        if rev.maxseqtobeacked and gt_seq(ack, rev.maxseqtobeacked) and flags & ACK:
            if rev.maxseqtobeacked < rev.nextseq:          # plain compare, as Wireshark
                rev.maxseqtobeacked = rev.nextseq
                ta |= A_ACK_LOST_PACKET
            else:
                # the other side is stalled with pure ACKs: report the same lost segment
                # once only (dupacknum -1 marks it)
                if rev.dupacknum == 0:
                    ta |= A_ACK_LOST_PACKET
                rev.dupacknum = -1

        # RETRANSMISSION / FAST RETRANSMISSION / OUT-OF-ORDER / SPURIOUS
        if seglen > 0 or flags & (SYN | FIN):
            ta = self._retransmission_type(ts, fwd, rev, seq, seglen, flags, ta)

        # finished_checking_retransmission_type:
        nextseq = (seq + seglen) & M32
        if (seglen or flags & (SYN | FIN)) and len(fwd.segments) < TCP_MAX_UNACKED_SEGMENTS:
            if flags & (SYN | FIN):
                nextseq = (nextseq + 1) & M32
            fwd.segments.append([seq, nextseq])
        zwp = bool(ta & A_ZERO_WINDOW_PROBE)
        if gt_seq(nextseq, fwd.nextseq) or not fwd.nextseq:
            if not zwp:
                fwd.nextseq = nextseq
                fwd.nextseqframe = number
                fwd.nextseqtime = ts
        if seq == fwd.maxseqtobeacked or not fwd.maxseqtobeacked:
            if not zwp:
                fwd.maxseqtobeacked = fwd.nextseq
        fwd.window = window
        fwd.lastack = ack
        fwd.lastacktime = ts
        fwd.lastsegmentflags = ta

        # remove the segments of the other direction this ACKs
        if rev.segments:
            keep = []
            for seg in rev.segments:
                s, n = seg
                if ack == n:
                    continue
                if gt_seq(ack, s) and le_seq(ack, n):
                    seg[0] = ack
                    keep.append(seg)
                elif gt_seq(n, ack):
                    keep.append(seg)
            rev.segments = keep
        return ta

    def _retransmission_type(self, ts: float, fwd: DirectionState, rev: DirectionState,
                             seq: int, seglen: int, flags: int, ta: int) -> int:
        if ta & A_KEEP_ALIVE:
            return ta
        seq_not_advanced = bool(fwd.nextseq) and lt_seq(seq, fwd.nextseq)
        if seglen > 1 and ((fwd.nextseq - 1) & M32) == seq:
            seq_not_advanced = False
        # spurious: all of its data was already acked by the other side
        if seglen > 0 and rev.lastack and le_seq((seq + seglen) & M32, rev.lastack):
            return ta | A_SPURIOUS_RETRANSMISSION | A_RETRANSMISSION
        # fast retransmission (tcp_fastrt_precedence = TRUE: checked before out-of-order)
        t = _elapsed_ns(ts, rev.lastacktime)
        dupacks = rev.dupacknum & M32                       # guint32 in Wireshark
        if (seq_not_advanced and dupacks >= 2 and rev.lastack == seq
                and t < _FAST_RT_WINDOW_NS):
            return ta | A_FAST_RETRANSMISSION | A_RETRANSMISSION
        # out-of-order: close in time to the highest segment seen
        t = _elapsed_ns(ts, fwd.nextseqtime)
        ooo_thres = (_DEFAULT_OOO_NS if self.ts_first_rtt is None
                     else round(self.ts_first_rtt * 1e9))
        syn_fin = 1 if flags & (SYN | FIN) else 0
        if (seq_not_advanced and t < ooo_thres
                and fwd.nextseq != ((seq + seglen + syn_fin) & M32)):
            return ta | A_OUT_OF_ORDER
        if seq_not_advanced:
            return ta | A_RETRANSMISSION
        return ta
