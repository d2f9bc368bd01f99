# core.py compiled as a twin by setup.py: what the engine does once per conversation (new
# conversation, protocol decided, packed when closed); its classes stay Python classes
import cython

from analyzer.engine._conv_state_c cimport ConvState as CConvState
from analyzer.transport._flows_c cimport Flow as CFlow
from analyzer.transport._reassembly_c cimport Reassembler as CReassembler
from analyzer.engine._conv_table_c cimport ConvTable as CConvTable


@cython.locals(cs=CConvState, tcp=bint, server_port=cython.longlong,
               client_port=cython.longlong, key=tuple, states=CConvTable)
cpdef object new_conv(object core, CFlow flow)


@cython.locals(r=CReassembler, direction=cython.longlong, pending=list)
cpdef object set_protocol(object core, CConvState cs, object spec, object options,
                          object protocol)
