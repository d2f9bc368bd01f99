# C types for message_cutting.py when setup.py compiles it as a twin (Cython augmenting .pxd)
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython


@cython.final
cdef class MessageMapper:
    cdef public object emit, codec, codec_factory, boundaries, dead, sizes
    cdef public bint resync
    cdef public long long bidx, msg_start, pos, fed_end
    cdef public list chunks, tail_packets

    @cython.locals(chunks=list, start=cython.longlong, c=tuple, out=list, k=cython.Py_ssize_t)
    cpdef list _packets_until(self, long long end)

    @cython.locals(chunks=list, c=tuple, packets=list)
    cpdef _message(self, long long start, long long end, object malformed=*)
