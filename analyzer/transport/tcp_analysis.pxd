# C types for tcp_analysis.py when setup.py compiles it as a twin (Cython augmenting .pxd)
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython

from dissectors.c_arrays cimport append, clear, first, new_empty

cdef long long M32, TCP_MAX_UNACKED_SEGMENTS, _FAST_RT_WINDOW_NS, _DEFAULT_OOO_NS
cdef long long _WS_UNKNOWN, _WS_NONE
cdef long long A_RETRANSMISSION, A_FAST_RETRANSMISSION, A_SPURIOUS_RETRANSMISSION
cdef long long A_OUT_OF_ORDER, A_LOST_PACKET, A_ACK_LOST_PACKET, A_DUPLICATE_ACK
cdef long long A_ZERO_WINDOW, A_ZERO_WINDOW_PROBE, A_KEEP_ALIVE, A_KEEP_ALIVE_ACK
cdef long long A_WINDOW_UPDATE, A_WINDOW_FULL, A_REUSED_PORTS, A_ZERO_WINDOW_PROBE_ACK
cdef long long SYN, ACK, FIN, RST
cdef bint COMPILED


@cython.locals(x=cython.double, r=cython.longlong, frac=cython.double)
cpdef object ts_ns(double ts)


@cython.locals(d=cython.longlong)
cpdef bint gt_seq(long long x, long long y)


@cython.final
cdef class DirectionState:
    cdef public long long base_seq
    cdef public bint base_seq_set, saw_syn, is_first_ack
    cdef public long long nextseq, nextseqframe, maxseqtobeacked, lastack
    cdef public double nextseqtime, lastacktime
    cdef public long long lastnondupack, dupacknum, window, win_scale, lastsegmentflags
    cdef public object segments


@cython.final
cdef class TcpConversationAnalysis:
    cdef public tuple dirs
    cdef public double ts_mru_syn
    cdef public object ts_first_rtt

    cpdef bint syn_starts_new_stream(self, int direction, long long seq, long long flags)

    @cython.locals(fwd=DirectionState, bits=cython.longlong)
    cpdef long long pre_checks(self, int direction, long long seq, long long flags)

    @cython.locals(fwd=DirectionState, rev=DirectionState, ta=cython.longlong,
                   f_next=cython.longlong, f_lastack=cython.longlong, f_window=cython.longlong,
                   nofsr=bint, shift=cython.longlong, r_max=cython.longlong,
                   syn_fin=cython.longlong, r_lastack=cython.longlong, end=cython.longlong,
                   nextseq=cython.longlong, segments=object, f_max=cython.longlong, segs=object,
                   n0=cython.longlong, syn_ns=object)
    cpdef long long packet(self, long long number, double ts, int direction, long long seq,
                           long long ack, long long seglen, long long flags, long long window,
                           object wscale, long long preset=*)

    @cython.locals(f_next=cython.longlong, seq_not_advanced=bint, r_lastack=cython.longlong,
                   end=cython.longlong, dupacks=cython.longlong, syn_fin=cython.longlong,
                   now=object)
    cdef long long _retransmission_type(self, double ts, DirectionState fwd,
                                        DirectionState rev, long long seq, long long seglen,
                                        long long flags, long long ta)
