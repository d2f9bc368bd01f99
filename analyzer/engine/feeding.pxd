# C types for feeding.py when setup.py compiles it as a twin (Cython augmenting .pxd)
import cython

cimport analyzer.decode._frame_c as frame
from analyzer.decode._decoded_c cimport Decoded as CDecoded
from analyzer.engine._conv_state_c cimport ConvState as CConvState
from analyzer.transport._flows_c cimport Flow as CFlow, FlowTable as CFlowTable
from analyzer.transport._reassembly_c cimport Reassembler as CReassembler

cdef long long FIN, SYN, ENGINE_BITS, LOOPBACK_DUP, MALFORMED, SIZE_LIMITED


@cython.locals(d=CDecoded, flows=CFlowTable, flow=CFlow, n=cython.longlong, k=cython.longlong,
               flags=cython.longlong, plen_hdr=cython.longlong, bits=cython.longlong,
               direction=cython.longlong, fbits=cython.longlong, kind=cython.longlong,
               keep=bint, outgoing=bint, pack_closed=bint, state_of_flow=dict,
               undecoded=dict, ts_column=object)
cpdef long long feed_records(object core, object records)


@cython.locals(cs=CConvState, r=CReassembler, plen=cython.longlong, plen_hdr=cython.longlong,
               flags=cython.longlong, po=cython.longlong, own=cython.longlong, counts=dict)
cpdef long long into_conversation(object core, dict state_of_flow, long long n, object data,
                                  CDecoded d, CFlow flow, long long direction,
                                  long long bits)
