# C types for _stream.py when setup.py compiles it as a twin (Cython augmenting .pxd): the
# receive buffer every stream codec asks for its length at each segment, and the codecs' base
# class (C fields; compiled codecs such as lenmsg derive from it in C)
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython


@cython.final
cdef class ReceiveBuffer:
    cdef public bytearray _b
    cdef public long long _pos


cdef class CodecBase:
    cdef public object _error
    cdef public bint _closed
