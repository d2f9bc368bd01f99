# retired.py compiled as a twin by setup.py (packing and unpacking a closed conversation is
# Python-level work done once per conversation; its classes stay Python classes)
import cython

from analyzer.engine._conv_state_c cimport ConvState as CConvState
from analyzer.transport._flows_c cimport Flow as CFlow, FlowTable as CFlowTable
from analyzer.transport._reassembly_c cimport Reassembler as CReassembler
from analyzer.engine._message_cutting_c cimport MessageMapper as CMessageMapper
from analyzer.engine.c_conv_blob cimport conv_blob

cdef long long A_REUSED_PORTS


@cython.locals(r=CReassembler, m=CMessageMapper, mappers=list, flow=CFlow, choice=object,
               flows=CFlowTable)
cpdef finish_and_pack(object core, CConvState cs)


@cython.locals(f=CFlow)
cpdef object pack(CConvState cs, object position, object first_preset)
