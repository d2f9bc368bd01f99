# dissectors/lenmsg.py compiled as a twin by setup.py; this file is the Cython augmenting
# .pxd: the codec a C class (its base, CodecBase, one too), so that receive_sizes, run for
# every lenmsg segment the analyzer cuts, reads its state as C fields
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython

from dissectors.__stream_c cimport CodecBase, ReceiveBuffer


@cython.final
cdef class Connection(CodecBase):
    cdef public object our_role, variant, _len, hint_port, _need
    cdef public long long max_frame
    cdef public ReceiveBuffer _buf

    @cython.locals(out=list, pos=cython.Py_ssize_t, end=cython.Py_ssize_t, n=cython.longlong,
                   nxt=cython.Py_ssize_t, max_frame=cython.longlong, b=cython.p_uchar,
                   big=bint, in_c=bint, variant=object)
    cpdef list receive_sizes(self, object data, Py_ssize_t start=*, object stop=*)


cdef bint COMPILED
