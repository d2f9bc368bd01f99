# C types for frame.py when setup.py compiles it as a twin (Cython augmenting .pxd)
import cython

from analyzer.decode._decoded_c cimport Decoded as CDecoded
from analyzer.decode._transport_c cimport tcp_options

cdef bint COMPILED
cdef dict _N_TEXTS
cdef unsigned long _SEEN_N0, _SEEN_N1
cdef str _SEEN_T0, _SEEN_T1
cdef int _seen_last


@cython.locals(b=cython.p_uchar, etype=cython.long, vihl=cython.long, total=cython.long,
               frag=cython.long,
               ttl=cython.long, proto=cython.long, sport=cython.long, dport=cython.long,
               doff=cython.long, flags=cython.long, win=cython.long, hl=cython.long,
               seq=cython.ulonglong, ack=cython.ulonglong, src_n=cython.ulong, dst_n=cython.ulong,
               tsval=cython.ulonglong, tsecr=cython.ulonglong,
               d=CDecoded, text=object)
cpdef object decode_frame(long linktype, object data, object origlen=*, bint options=*,
                          CDecoded into=*)


@cython.locals(text=object)
cdef str _ip4_seen_text(unsigned long n)
