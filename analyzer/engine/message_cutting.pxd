# C types for message_cutting.py when setup.py compiles it as a twin (Cython augmenting .pxd)
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython

from analyzer.engine._conv_state_c cimport ConvState as CConvState


@cython.final
cdef class MessageMapper:
    cdef public CConvState conv
    cdef public long long direction
    cdef public object codec, codec_factory, boundaries, dead, sizes
    cdef public bint resync, pending
    cdef public long long bidx, msg_start, pos, fed_end
    cdef public list chunks, tail_packets

    cpdef data(self, long long offset, long long packet, long long start, object data)

    @cython.locals(conv=CConvState, direction=cython.longlong, pos=cython.longlong,
                   ms=cython.longlong, chunks=list, c=tuple, packets=list, sizes=list,
                   ends=list, reader=object, k=cython.Py_ssize_t, alone=bint,
                   end=cython.longlong)
    cpdef data_in(self, long long offset, long long packet, object buf, Py_ssize_t lo,
                  Py_ssize_t hi)

    cpdef finish(self)

    @cython.locals(chunks=list, start=cython.longlong, c=tuple, out=list, k=cython.Py_ssize_t)
    cpdef list _packets_until(self, long long end)

    @cython.locals(chunks=list, c=tuple, packets=list)
    cpdef _message(self, long long start, long long end, object malformed=*)
