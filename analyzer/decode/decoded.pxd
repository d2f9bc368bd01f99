# C types for decoded.py when setup.py compiles it as a twin (Cython augmenting .pxd): the
# other hot modules cimport Decoded and read and write its fields as C struct members.
# A class here lists exactly its __slots__ (setup.py skips a twin whose .pxd is out of step).
import cython


@cython.final
@cython.freelist(16)
cdef class Decoded:
    cdef public long long linktype, l3_offset, l4_offset, payload_offset, ip_version
    cdef public long long ip_proto, ttl, sport, dport, seq, ack, flags, window
    cdef public long long tcp_header_len, payload_len, captured_payload_len
    cdef public object src, dst, transport, tcp_options, protocol, malformed, vlan, undecoded
