# C types for conn_state.py when setup.py compiles it as a twin (Cython augmenting .pxd)
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython

cdef long long M32, _TOO_LARGE_SEQ_DELTA, SYN, ACK, FIN, RST
cdef long long INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET
cdef long long _H_SYN, _H_FIN, _H_RST, _H_FIN_RST, _H_DATA, _H_ACK, _H_MULTI

cpdef long long _delta(long long a, long long b)


@cython.final
cdef class Endpoint:
    cdef public bint is_orig
    cdef public long long state, prev_state, start_seq, last_seq
    cdef public set hist_seen
    cdef public object hist_last_syn, hist_last_fin, hist_last_rst
    cdef public long long num_rxmit, rxmit_thresh, num_zero_win, zero_win_thresh, size

    cpdef set_state(self, long long s)


@cython.final
cdef class ZeekTcpState:
    cdef public Endpoint orig, resp
    cdef public list hist

    cpdef _add(self, Endpoint ep, str code)
    cpdef bint _check(self, Endpoint ep, long long kind, str code)
    cpdef _scaled(self, Endpoint ep, str code, str which)
    @cython.locals(n=cython.longlong)
    cpdef _update_history(self, Endpoint ep, long long flags, long long rel_seq, long long length)
    @cython.locals(ep=Endpoint, peer=Endpoint, last=cython.longlong, d=cython.longlong,
                   seg_len=cython.longlong, rel_seq=cython.longlong, delta_last=cython.longlong)
    cpdef packet(self, bint is_orig, long long seq, long long flags, long long length,
                 long long window)
    @cython.locals(st=cython.longlong)
    cpdef _state_machine(self, Endpoint ep, Endpoint peer, bint is_orig, long long flags,
                         long long length, long long delta_last)
