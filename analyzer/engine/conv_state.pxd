# C types for conv_state.py when setup.py compiles it as a twin (Cython augmenting .pxd)
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython

from dissectors.c_arrays cimport append, new_empty


@cython.final
cdef class ConvState:
    cdef public object flow, transport, protocol, options, spec, d_key, cache
    cdef public long long id, version
    cdef public list reasm, mappers, last_pkt, udp_bytes, probe_buf, probe_pending
    cdef public object m_dir, m_off, m_len, m_pk, pk, coalesced, pkts
    cdef public tuple d_idx
    cdef public dict m_bad, own
    cdef public bint decided

    @cython.locals(i=cython.longlong)
    cpdef long long add_message(self, long long direction, long long start, long long end,
                                object packets, object malformed)

    @cython.locals(i=cython.longlong)
    cpdef long long add_whole(self, long long direction, long long start, long long end,
                              long long packet)

    @cython.locals(i=cython.Py_ssize_t)
    cdef inline Py_ssize_t _new_message(self, long long direction, long long start,
                                        long long end) except -1

    @cython.locals(ends=list)
    cdef inline void _carried(self, long long direction, long long first, long long last) except *


@cython.final
cdef class OffsetsView:
    cdef public object _off, _idx
