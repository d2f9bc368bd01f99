"""Wireshark's TCP sequence-number analysis (packet-tcp.c), per conversation, push-based.

A faithful port of `tcp_analyze_sequence_number()` and the bits of `dissect_tcp()` around it
that feed it (window scaling from the SYN options, the initial RTT used as the out-of-order
threshold, the SYN "port numbers reused" checks).  Same order of checks, same state per
direction (nextseq, maxseqtobeacked, lastack, dupacknum, window, ...), same quirks: sequence
numbers are the ABSOLUTE 32-bit values, 0 in `nextseq`/`maxseqtobeacked`/`lastack` means
"not seen yet", comparisons are modulo 2**32 except where Wireshark compares plainly.

The result of one packet is a bit set over analyzer.transport.analysis_flags.ANALYSIS_BIT.  Like tshark's
`tcp.analysis.retransmission` filter (which also matches fast and spurious retransmissions,
because Wireshark adds that expert item to them too), a fast or spurious retransmission also
carries the plain `retransmission` bit.
"""
from __future__ import annotations

from array import array

from analyzer.decode.decoded import ACK, FIN, RST, SYN
from analyzer.transport.analysis_flags import ANALYSIS_BIT
from dissectors.arrays import UINTS
from dissectors.arrays import append, clear, first, new_empty  # the twin cimports it (setup.py)

M32 = 0xFFFFFFFF
# True in the compiled twin (setup.py writes it so): ts_ns works in C numbers there
COMPILED = False

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
A_ZERO_WINDOW_PROBE_ACK = ANALYSIS_BIT["zero_window_probe_ack"]

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


def ts_ns(ts: float) -> int:
    """Capture time as integer nanoseconds, exact for microsecond timestamps (a float of
    ~1.7e9 s cannot carry nanoseconds exactly; thresholds compare exactly like Wireshark):
    round(ts * 1e6) * 1000, which the twin works out in C numbers below 2**52 (rounding
    halves to even, as round() does)."""
    x = ts * 1e6
    if COMPILED and 0.0 <= x < 4503599627370496.0:
        r = int(x)
        frac = x - r
        if frac > 0.5 or (frac == 0.5 and r & 1):
            r += 1
        return r * 1000
    return round(x) * 1000


def _elapsed_ns(now: int, then: int) -> int:
    """Wireshark computes a guint64 nanosecond difference: a negative one is huge."""
    t = now - then
    return t if t >= 0 else 1 << 64


class DirectionState:
    """tcp_flow_t + tcp_analyze_seq_flow_info_t of one direction."""

    __slots__ = ("base_seq", "base_seq_set", "saw_syn", "nextseq", "nextseqtime", "nextseqframe",
                 "maxseqtobeacked", "lastack", "lastacktime", "lastnondupack", "dupacknum",
                 "window", "win_scale", "is_first_ack", "lastsegmentflags", "segments")

    def __init__(self) -> None:
        self.base_seq = 0
        self.base_seq_set = False
        self.saw_syn = False        # the first packet that set base_seq was a SYN / SYN-ACK
        self.nextseq = 0
        self.nextseqtime = 0.0         # capture time (s; ts_ns when compared)
        self.nextseqframe = 0
        self.maxseqtobeacked = 0
        self.lastack = 0
        self.lastacktime = 0.0         # capture time (s; ts_ns when compared)
        self.lastnondupack = 0
        self.dupacknum = 0
        self.window = M32           # G_MAXUINT32: nothing seen yet
        self.win_scale = _WS_UNKNOWN
        self.is_first_ack = False
        self.lastsegmentflags = 0
        self.segments = new_empty(UINTS)    # end (nextseq) of each unacked segment


class TcpConversationAnalysis:
    """The sequence analysis state of one tcp.stream (both directions)."""

    __slots__ = ("dirs", "ts_mru_syn", "ts_first_rtt")

    def __init__(self) -> None:
        self.dirs = (DirectionState(), DirectionState())
        self.ts_mru_syn = 0.0      # capture time of the latest SYN (s; ns 0 = none yet)
        self.ts_first_rtt = 0      # ns; Wireshark's tcp.analysis.initial_rtt, 0 = unknown

    # -- the SYN checks dissect_tcp() makes before the analysis -------------------------------
    @property
    def initial_rtt(self) -> float | None:
        """Seconds from the most recent SYN to the first pure ACK (None: not seen)."""
        return self.ts_first_rtt / 1e9 if self.ts_first_rtt else None

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

    # -- one packet: the per-packet hot loop (kept flat on purpose, see the docstring) ------
    def packet(self, number: int, ts: float, direction: int, seq: int, ack: int, seglen: int,
               flags: int, window: int, wscale: int | None, preset: int = 0) -> int:
        """Analyse one TCP segment; returns its analysis bits.

        `window` is the raw header value; `wscale` the SYN's window-scale shift or None;
        `preset` bits already set on this packet (reused ports) before the analysis.
        (Written for speed: the helpers gt_seq/lt_seq are inlined as
        `((y - x) & M32) >= 0x80000000` for "x after y".)
        """
        dirs = self.dirs
        fwd = dirs[direction]
        rev = dirs[1 - direction]
        ta = preset
        if not fwd.base_seq_set:
            if flags & SYN:
                fwd.base_seq = seq
                fwd.saw_syn = True
            else:
                fwd.base_seq = (seq - 1) & M32
            fwd.base_seq_set = True
        if flags & ACK and not rev.base_seq_set:
            rev.base_seq = (ack - 1) & M32
            rev.base_seq_set = True

        f_next = fwd.nextseq
        f_lastack = fwd.lastack
        f_window = fwd.window
        # ZERO WINDOW PROBE
        if seglen == 1 and seq == f_next and rev.window == 0:
            ta |= A_ZERO_WINDOW_PROBE
        else:
            nofsr = not flags & (SYN | FIN | RST)
            # ZERO WINDOW
            if window == 0 and nofsr:
                ta |= A_ZERO_WINDOW
            # LOST PACKET (previous segment not captured)
            if f_next and ((f_next - seq) & M32) >= 0x80000000 and not flags & RST:
                ta |= A_LOST_PACKET
            if nofsr:
                # KEEP ALIVE
                if seglen <= 1 and seq == ((f_next - 1) & M32):
                    ta |= A_KEEP_ALIVE
                if seglen == 0:
                    if seq == f_next and ack == f_lastack:
                        # WINDOW UPDATE
                        if window and window != f_window:
                            ta |= A_WINDOW_UPDATE
                        # KEEP ALIVE ACK / ZERO WINDOW PROBE ACK / DUPLICATE ACK
                        elif window == f_window:
                            if window and rev.lastsegmentflags & A_KEEP_ALIVE:
                                ta |= A_KEEP_ALIVE_ACK
                            elif not window:
                                if rev.lastsegmentflags & A_ZERO_WINDOW_PROBE:
                                    ta |= A_ZERO_WINDOW_PROBE_ACK
                            else:
                                fwd.dupacknum = (1 if fwd.dupacknum == -1
                                                 else fwd.dupacknum + 1)
                                ta |= A_DUPLICATE_ACK
                # WINDOW FULL
                elif rev.win_scale != _WS_UNKNOWN:
                    shift = (0 if (rev.is_first_ack or rev.win_scale == _WS_NONE)
                             else rev.win_scale)
                    if ((seq + seglen) & M32) == (
                            (rev.lastack + ((rev.window << shift) & M32)) & M32):
                        ta |= A_WINDOW_FULL

        # finished_fwd:
        if ack != f_lastack:
            fwd.lastnondupack = number
            fwd.dupacknum = 0

        # ACKED LOST PACKET (ACKed segment that wasn't captured), Wireshark 4.0's variant as
        # pinned down against tshark 4.0.17 (tests/transport/test_random_vs_tshark.py): a stale
        # maxseqtobeacked (behind nextseq) catches up and reports; otherwise the same unseen
        # segment is reported once, dupacknum = -1 remembering it (a guint32 in Wireshark,
        # so the fast retransmission test below sees it as a large count).
        r_max = rev.maxseqtobeacked
        if r_max and flags & ACK and ((r_max - ack) & M32) >= 0x80000000:
            if ((r_max - rev.nextseq) & M32) >= 0x80000000:      # LT_SEQ(max, nextseq)
                rev.maxseqtobeacked = rev.nextseq
                ta |= A_ACK_LOST_PACKET
            else:
                # the other side is stalled with pure ACKs: report the same lost segment
                # once only (dupacknum -1 marks it)
                if rev.dupacknum == 0:
                    ta |= A_ACK_LOST_PACKET
                rev.dupacknum = -1

        # RETRANSMISSION / FAST RETRANSMISSION / OUT-OF-ORDER / SPURIOUS
        syn_fin = flags & (SYN | FIN)
        if seglen > 0 or syn_fin:
            if seq == f_next or not f_next:
                # the sequence advanced (the common case): of _retransmission_type only the
                # spurious check can apply, inlined here
                if seglen > 0 and not ta & A_KEEP_ALIVE:
                    r_lastack = rev.lastack
                    if r_lastack:
                        end = (seq + seglen) & M32
                        if end == r_lastack or ((end - r_lastack) & M32) >= 0x80000000:
                            ta |= A_SPURIOUS_RETRANSMISSION | A_RETRANSMISSION
            else:
                ta = self._retransmission_type(ts, fwd, rev, seq, seglen, flags, ta)

        # finished_checking_retransmission_type:
        nextseq = (seq + seglen) & M32
        if seglen or syn_fin:
            segments = fwd.segments
            if len(segments) < TCP_MAX_UNACKED_SEGMENTS:
                if syn_fin:
                    nextseq = (nextseq + 1) & M32
                append(segments, nextseq)
        if not ta & A_ZERO_WINDOW_PROBE:
            f_next = fwd.nextseq
            if not f_next or ((f_next - nextseq) & M32) >= 0x80000000:
                fwd.nextseq = f_next = nextseq
                fwd.nextseqframe = number
                fwd.nextseqtime = ts
            f_max = fwd.maxseqtobeacked
            if seq == f_max or not f_max:
                fwd.maxseqtobeacked = f_next
        fwd.window = window
        fwd.lastack = ack
        fwd.lastacktime = ts
        fwd.lastsegmentflags = ta

        # remove the segments of the other direction this ACKs.  Wireshark keeps a segment
        # iff the ACK is not its end and lies before its end (its start never decides), so
        # only the ends are stored: bounded by the packet count, 10,000 per direction.
        segs = rev.segments
        if segs:
            if len(segs) == 1:                  # the common case: no new array
                n0 = first(segs)
                if n0 == ack or ((ack - n0) & M32) < 0x80000000:
                    clear(segs)
            else:
                rev.segments = array("I", [n0 for n0 in segs
                                           if n0 != ack and ((ack - n0) & M32) >= 0x80000000])

        # dissect_tcp() after the analysis: initial RTT, first ACK, window scaling
        if flags & SYN:
            if not flags & ACK:
                self.ts_mru_syn = ts
            fwd.is_first_ack = True
            if wscale is not None:
                fwd.win_scale = min(wscale, 14)
            # verify_tcp_window_scaling()
            if fwd.win_scale == _WS_UNKNOWN:
                fwd.win_scale = _WS_NONE
                rev.win_scale = _WS_NONE
            elif flags & ACK and rev.win_scale == _WS_NONE:
                fwd.win_scale = _WS_NONE
        elif flags & ACK:
            if self.ts_mru_syn and not self.ts_first_rtt:
                syn_ns = ts_ns(self.ts_mru_syn)
                if syn_ns:                      # (nstime_is_zero: no SYN time)
                    self.ts_first_rtt = ts_ns(ts) - syn_ns
            if fwd.is_first_ack:
                fwd.is_first_ack = False
        return ta

    def _retransmission_type(self, ts: float, fwd: DirectionState, rev: DirectionState,
                             seq: int, seglen: int, flags: int, ta: int) -> int:
        if ta & A_KEEP_ALIVE:
            return ta
        f_next = fwd.nextseq
        seq_not_advanced = bool(f_next) and ((seq - f_next) & M32) >= 0x80000000
        if seq_not_advanced and seglen > 1 and ((f_next - 1) & M32) == seq:
            seq_not_advanced = False
        # spurious: all of its data was already acked by the other side
        r_lastack = rev.lastack
        if seglen > 0 and r_lastack:
            end = (seq + seglen) & M32
            if end == r_lastack or ((end - r_lastack) & M32) >= 0x80000000:
                return ta | A_SPURIOUS_RETRANSMISSION | A_RETRANSMISSION
        if not seq_not_advanced:
            return ta
        # fast retransmission (tcp_fastrt_precedence = TRUE: checked before out-of-order)
        now = ts_ns(ts)
        t = _elapsed_ns(now, ts_ns(rev.lastacktime))
        dupacks = rev.dupacknum & M32                       # guint32 in Wireshark
        if dupacks >= 2 and r_lastack == seq and t < _FAST_RT_WINDOW_NS:
            return ta | A_FAST_RETRANSMISSION | A_RETRANSMISSION
        # out-of-order: close in time to the highest segment seen
        t = _elapsed_ns(now, ts_ns(fwd.nextseqtime))
        ooo_thres = self.ts_first_rtt or _DEFAULT_OOO_NS
        syn_fin = 1 if flags & (SYN | FIN) else 0
        if t < ooo_thres and f_next != ((seq + seglen + syn_fin) & M32):
            return ta | A_OUT_OF_ORDER
        return ta | A_RETRANSMISSION

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
