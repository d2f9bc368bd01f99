# C types for feeding.py when setup.py compiles it as a twin (Cython augmenting .pxd)
import cython

cimport analyzer.decode._frame_c as frame
from analyzer.decode._decoded_c cimport Decoded as CDecoded
from analyzer.engine._conv_state_c cimport ConvState as CConvState
from analyzer.engine._message_cutting_c cimport MessageMapper as CMessageMapper
from analyzer.transport._flows_c cimport Flow as CFlow, FlowTable as CFlowTable
from analyzer.transport._reassembly_c cimport Reassembler as CReassembler
from dissectors.c_arrays cimport append

cdef long long FIN, SYN, ENGINE_BITS, LOOPBACK_DUP, MALFORMED, SIZE_LIMITED


@cython.locals(d=CDecoded, scratch=CDecoded, flows=CFlowTable, flow=CFlow, n=cython.longlong,
               i=cython.longlong,
               ts=cython.double, linktype=cython.longlong,
               start=cython.longlong, end=cython.longlong, grow=cython.longlong,
               count=cython.Py_ssize_t, k=cython.Py_ssize_t, in_columns=bint, sized=bint,
               c_ts=cython.double[::1], c_link=cython.uint[::1], c_orig=cython.longlong[::1],
               c_off=cython.longlong[::1],
               flags=cython.longlong, plen_hdr=cython.longlong, bits=cython.longlong,
               direction=cython.longlong, fbits=cython.longlong, kind=cython.longlong,
               keep=bint, outgoing=bint, pack_closed=bint, full=bint, state_of_flow=dict,
               undecoded=dict, v_ts=cython.double[::1], v_off=cython.longlong[::1],
               v_cap=cython.uint[::1], v_orig=cython.uint[::1], v_link=cython.ushort[::1],
               v_bits=cython.uint[::1], v_flags=cython.uchar[::1], v_plen=cython.uint[::1],
               v_stream=cython.int[::1], v_kind=cython.schar[::1], v_dir=cython.schar[::1])
cpdef long long feed_records(object core, object records)


@cython.locals(cs=CConvState, r=CReassembler, m=CMessageMapper, off=cython.longlong, plen=cython.longlong, plen_hdr=cython.longlong,
               flags=cython.longlong, po=cython.longlong, own=cython.longlong, counts=dict)
cpdef long long into_conversation(object core, dict state_of_flow, long long n, object data,
                                  CDecoded d, CFlow flow, long long direction,
                                  long long bits)
