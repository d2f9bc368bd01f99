# protocol_choice.py compiled as a twin by setup.py: the engine asks it once per conversation
# (which codec, why); ChoiceTable a C class (the engine and the summary look up each
# conversation's choice in it), the other classes stay Python classes
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython


@cython.final
cdef class ChoiceTable:
    cdef public list _tcp, _udp

    cpdef list _items(self, str transport)
    cpdef object of(self, str transport, Py_ssize_t cid)
    cpdef object get(self, tuple key, object default=*)
    cpdef object setdefault(self, tuple key, object value)
