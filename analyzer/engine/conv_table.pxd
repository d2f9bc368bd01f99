# conv_table.py compiled as a twin by setup.py: the engine appends and packs through it once
# per conversation (C calls: ConvTable a C class), the summary reads every entry
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython


@cython.final
cdef class ConvTable:
    cdef public list entries
    cdef public dict _position, _unpacked
    cdef public object by_key

    @cython.locals(pos=cython.Py_ssize_t)
    cpdef Py_ssize_t append(self, object cs) except -1
    cpdef put(self, Py_ssize_t pos, object entry)
    cpdef object position_of(self, str transport, Py_ssize_t cid)
