# C types for flows.py when setup.py compiles it as a twin (Cython augmenting .pxd)
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython

from analyzer.decode._decoded_c cimport Decoded as CDecoded
from analyzer.transport._tcp_analysis_c cimport TcpConversationAnalysis as CTcpAnalysis, gt_seq
from analyzer.transport._conn_state_c cimport ZeekTcpState as CZeekTcp

cdef long long SYN, ACK, FIN, RST, M32, A_REUSED_PORTS
cdef list _COUNTED
cdef dict _NO_TCP_COUNTS


cpdef Py_hash_t pair_key(tuple a, tuple b)


@cython.final
cdef class Flow:
    cdef public str transport
    cdef public long long id, first_packet, last_packet, packets, bytes_c2s, bytes_s2c
    cdef public object client, server
    cdef public double start_time, end_time
    cdef public list isn, _isn_syn
    cdef public dict analysis_counts
    cdef public bint finished, closed
    cdef public CTcpAnalysis _tcp
    cdef public object _zeek
    cdef public object _syn, _synack, _hs_ack, _rst, _syn_ts, _hs_ack_ts
    cdef public long long _syn_seq, _syn_end, _synack_seq, _rst_dir
    cdef public list _fin, _fin_end, _fin_ack, _fin_order
    cdef public bint _second_fin_acks_first, _rst_before_close, _data_after_fin

    cpdef _track_handshake(self, long long number, object ts, long long direction,
                           long long seq, long long ack, long long flags, long long seglen)
    cpdef _track_teardown(self, long long number, long long direction, long long seq,
                          long long ack, long long flags, long long seglen)
    # what a finished conversation is asked once (packing, the summary): C calls from twins
    cpdef long long base_seq(self, long long direction)
    cpdef long long syn_base(self, long long direction)
    cpdef object window_shift(self, long long direction)
    cpdef dict handshake(self)
    cpdef dict teardown(self)
    cpdef tuple handshake_facts(self)
    cpdef tuple teardown_facts(self)
    cpdef str state(self)
    cpdef str history(self)


@cython.final
cdef class FlowTable:
    cdef public list conversations
    cdef public dict _tcp, _udp, _next_id, retired
    cdef public bint finished
    cdef public long long replay_id, replay_preset, direction, bits
    cdef public bint new

    @cython.locals(fid=cython.longlong, flow=Flow)
    cpdef Flow _new_flow(self, str transport, dict table, tuple client, tuple server,
                         long long number, double ts, bint flipped=*)

    @cython.locals(flow=Flow, direction=cython.longlong, flags=cython.longlong,
                   preset=cython.longlong, seglen=cython.longlong, seq=cython.longlong,
                   ack=cython.longlong, window=cython.longlong, bits=cython.longlong,
                   bit=cython.longlong, new=bint, table=dict, counts=dict,
                   tcp=CTcpAnalysis, zeek=CZeekTcp)
    cpdef place(self, long long number, double ts, CDecoded d)

    @cython.locals(flow=object)
    cpdef add(self, long long number, object ts, CDecoded d)

    cpdef object _retired_at(self, tuple src, tuple dst, long long seq, long long flags)
    cpdef _forget_retired(self, object stand_in, object key=*)

    @cython.locals(c=tuple, s=tuple, hit=tuple, old=object)
    cpdef retire(self, Flow flow, object stand_in)
