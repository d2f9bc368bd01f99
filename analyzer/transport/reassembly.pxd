# C types for reassembly.py when setup.py compiles it as a twin (Cython augmenting .pxd)
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython

from dissectors.c_arrays cimport append, new_empty

cdef long long MOD, HALF, MAX_HELD_SEGMENTS, OVERLAP_CONFLICT, BUFFER_CAP, SYN, FIN


@cython.final
cdef class ChunkMap:
    cdef public object offset, packet, start, length


@cython.final
cdef class Reassembler:
    cdef public object base
    cdef public long long next_off, held_bytes, max_held, delivered, fin_off
    cdef public list held_starts, gaps
    cdef public dict held
    cdef public object on_data, on_gap, fetch
    cdef public ChunkMap chunks
    cdef public bint cap_hit

    @cython.locals(known=object, base=cython.longlong, nxt=cython.longlong, delta=cython.longlong,
                   off=cython.longlong, end=cython.longlong, bits=cython.longlong,
                   old_end=cython.longlong, cut=cython.longlong,
                   fin=cython.longlong)
    cpdef long long segment(self, long long packet, long long seq, long long flags, object data,
                            long long start=*)

    @cython.locals(expected=cython.longlong, delta=cython.longlong)
    cpdef long long stream_offset(self, long long seq)

    @cython.locals(known=object, base=cython.longlong, nxt=cython.longlong)
    cpdef long long take_next(self, long long packet, long long seq, long long flags,
                              long long n)

    @cython.locals(ch=ChunkMap)
    cdef inline void _in_order(self, long long nxt, long long packet, long long start,
                               long long n) except *

    cpdef finish(self)

    cpdef _deliver(self, long long off, long long packet, long long start, object data)

    @cython.locals(n=cython.longlong, gap_at=cython.longlong)
    cpdef _skip_to(self, long long off)

    @cython.locals(starts=list, off=cython.longlong, end=cython.longlong, cut=cython.longlong,
                   start=cython.longlong)
    cpdef _drain(self)
