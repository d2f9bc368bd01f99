# retired.py compiled as a twin by setup.py (packing and unpacking a closed conversation is
# work done once per conversation; PackedConv a C class: the summary reads its fields for
# each conversation; the others stay Python classes)
import cython

from analyzer.engine._conv_state_c cimport ConvState as CConvState
from analyzer.transport._flows_c cimport Flow as CFlow, FlowTable as CFlowTable
from analyzer.transport._reassembly_c cimport Reassembler as CReassembler
from analyzer.engine._message_cutting_c cimport MessageMapper as CMessageMapper
from analyzer.engine.c_conv_blob cimport conv_blob, head_blob

cdef long long A_REUSED_PORTS


@cython.final
cdef class PackedConv:
    cdef public object id, position, protocol, spec, options, head, blob

    @cython.locals(v=tuple)
    cpdef tuple ends(self)


@cython.locals(r=CReassembler, m=CMessageMapper, mappers=list, flow=CFlow, choice=object,
               flows=CFlowTable)
cpdef finish_and_pack(object core, CConvState cs)


@cython.locals(p=PackedConv)
cpdef object pack(CConvState cs, object position, object first_preset)
