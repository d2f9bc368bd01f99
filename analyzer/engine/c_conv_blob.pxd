# The C conv_blob the compiled twin of analyzer/engine/retired.py cimports instead of
# analyzer/engine/conv_blob.py's (setup.py leaves the .py's import line out of the twin): the
# same bytes as marshal.dumps(the flat tuple, 2), written straight from the flow's and the
# conversation's fields into one buffer (no tuple of 47 items made first, no marshal writer
# growing a bytes object).  Marshal's version 2 keeps no table of the objects written, so an
# item's bytes do not depend on what came before: a value of a type this writer does not
# take is written by marshal.dumps(value, 2) itself (tests/engine/test_conv_blob.py compares
# the two on real conversations and on values of every kind).
from cpython.array cimport array
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.conversion cimport PyOS_double_to_string, PyOS_string_to_double
from cpython.dict cimport PyDict_Next
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.mem cimport PyMem_Free
from cpython.object cimport PyObject, Py_SIZE
from cpython.unicode cimport PyUnicode_AsUTF8AndSize

from analyzer.engine._conv_state_c cimport ConvState as CConvState
from analyzer.transport._flows_c cimport Flow as CFlow
from analyzer.transport._reassembly_c cimport ChunkMap as CChunkMap
from analyzer.transport._reassembly_c cimport Reassembler as CReassembler
from dissectors.c_buffer cimport _Buf, _put, _room, _start

cdef extern from "Python.h":
    int PyFloat_Pack8(double x, char *p, int le) except -1
    long long PyLong_AsLongLongAndOverflow(object v, int *overflow) except? -1
    bint PyUnicode_IS_ASCII(object s)


cdef inline Py_ssize_t _w_int32(_Buf *b, long long v) except -1:
    """A 4-byte little-endian int (marshal's w_long)."""
    cdef unsigned int u = <unsigned int>v
    _room(b, 4)
    b.p[b.n] = <char>(u & 0xFF)
    b.p[b.n + 1] = <char>((u >> 8) & 0xFF)
    b.p[b.n + 2] = <char>((u >> 16) & 0xFF)
    b.p[b.n + 3] = <char>((u >> 24) & 0xFF)
    b.n += 4
    return 0


cdef inline Py_ssize_t _w_ll(_Buf *b, long long v) except -1:
    """An int: 'i' and 4 bytes when it fits 32 bits, else 'l', the count of its 15-bit digits
    (negative for a negative int) and the digits, lowest first, 2 bytes each."""
    cdef unsigned long long u
    cdef Py_ssize_t at, k = 0
    if -2147483648 <= v <= 2147483647:
        _room(b, 5)
        b.p[b.n] = c'i'
        b.n += 1
        return _w_int32(b, v)
    u = <unsigned long long>(-(v + 1)) + 1 if v < 0 else <unsigned long long>v
    _room(b, 5 + 2 * 5)
    b.p[b.n] = c'l'
    at = b.n + 1
    b.n += 5
    while u:
        b.p[b.n] = <char>(u & 0xFF)
        b.p[b.n + 1] = <char>((u >> 8) & 0x7F)
        b.n += 2
        u >>= 15
        k += 1
    b.n, at = at, b.n
    _w_int32(b, -k if v < 0 else k)
    b.n = at
    return 0


cdef inline Py_ssize_t _w_double(_Buf *b, double v) except -1:
    """A float: 'g' and its 8 bytes, little-endian."""
    _room(b, 9)
    b.p[b.n] = c'g'
    PyFloat_Pack8(v, b.p + b.n + 1, 1)
    b.n += 9
    return 0


cdef inline object _round3(object hs_ack_ts, object syn_ts):
    """round((hs_ack_ts - syn_ts) * 1000.0, 3) (Flow.handshake_facts' rtt): for two floats
    and a finite result, the double nearest to the difference's decimal correctly rounded to
    3 decimals, as round() finds it (dtoa's mode 3, then strtod), without the call."""
    cdef double x
    cdef char *t
    if type(hs_ack_ts) is float and type(syn_ts) is float:
        x = (PyFloat_AS_DOUBLE(hs_ack_ts) - PyFloat_AS_DOUBLE(syn_ts)) * 1000.0
        if x - x == 0.0:
            t = PyOS_double_to_string(x, b'f', 3, 0, NULL)
            try:
                return PyOS_string_to_double(t, NULL, NULL)
            finally:
                PyMem_Free(t)
    return round((hs_ack_ts - syn_ts) * 1000.0, 3)


cdef inline Py_ssize_t _w_sized(_Buf *b, char code, const char *s, Py_ssize_t n) except -1:
    """`code`, the length in 4 bytes, the bytes."""
    _room(b, 1)
    b.p[b.n] = code
    b.n += 1
    _w_int32(b, n)
    return _put(b, s, n)


cdef inline Py_ssize_t _w_tuple(_Buf *b, Py_ssize_t n) except -1:
    """A tuple's head: '(' and its length; its items follow."""
    _room(b, 1)
    b.p[b.n] = c'('
    b.n += 1
    return _w_int32(b, n)


cdef inline Py_ssize_t _w_array(_Buf *b, array a) except -1:
    """An array as marshal writes an object with a buffer: as bytes ('s')."""
    return _w_sized(b, c's', a.data.as_chars, Py_SIZE(a) * a.ob_descr.itemsize)


cdef inline Py_ssize_t _w_obj(_Buf *b, object v) except -1:
    cdef int overflow = 0
    cdef long long x
    cdef Py_ssize_t n, i
    cdef const char *u
    if v is None:
        return _put(b, "N", 1)
    if v is True:
        return _put(b, "T", 1)
    if v is False:
        return _put(b, "F", 1)
    if type(v) is int:
        x = PyLong_AsLongLongAndOverflow(v, &overflow)
        if not overflow:
            return _w_ll(b, x)
    elif type(v) is float:
        return _w_double(b, PyFloat_AS_DOUBLE(v))
    elif type(v) is str:
        u = PyUnicode_AsUTF8AndSize(v, &n) if PyUnicode_IS_ASCII(v) else NULL
        if u != NULL:
            return _w_sized(b, c'u', u, n)
    elif type(v) is tuple:
        n = len(<tuple>v)
        _w_tuple(b, n)
        for i in range(n):
            _w_obj(b, (<tuple>v)[i])
        return 0
    elif type(v) is array:
        return _w_array(b, v)
    import marshal
    data = <bytes>marshal.dumps(v, 2)
    return _put(b, data, len(data))


cdef inline Py_ssize_t _w_items(_Buf *b, dict d, bint nonzero) except -1:
    """tuple(d.items()) (only the items with a true value when `nonzero`): the tuple's
    length written when known."""
    cdef Py_ssize_t pos = 0, n = 0, at
    cdef PyObject *k
    cdef PyObject *val
    _w_tuple(b, 0)
    at = b.n - 4
    while PyDict_Next(d, &pos, &k, &val):
        if nonzero and not <object>val:
            continue
        _w_tuple(b, 2)
        _w_obj(b, <object>k)
        _w_obj(b, <object>val)
        n += 1
    at, b.n = b.n, at
    _w_int32(b, n)
    b.n = at
    return 0


cdef inline Py_ssize_t _w_list(_Buf *b, list items) except -1:
    """tuple(items)."""
    cdef Py_ssize_t i, n = len(items)
    _w_tuple(b, n)
    for i in range(n):
        _w_obj(b, items[i])
    return 0


cdef inline Py_ssize_t _w_reasm(_Buf *b, CReassembler r) except -1:
    cdef CChunkMap c = r.chunks
    _w_obj(b, r.base)
    _w_ll(b, r.next_off)
    _w_list(b, r.gaps)
    _w_obj(b, c.offset)
    _w_obj(b, c.packet)
    _w_obj(b, c.start)
    return _w_obj(b, c.length)


cdef inline bytes conv_blob(CConvState cs):
    """conv_blob.conv_blob: marshal.dumps(the conversation's flat tuple, 2)."""
    cdef CFlow f = cs.flow
    cdef _Buf b
    cdef Py_ssize_t frames = 0
    cdef list last = cs.last_pkt
    _start(&b, 1024)
    try:
        _w_tuple(&b, 47)   # the items conv_blob.py lays out
        _w_ll(&b, f.first_packet)
        _w_ll(&b, f.last_packet)
        _w_ll(&b, f.packets)
        _w_ll(&b, f.bytes_c2s)
        _w_ll(&b, f.bytes_s2c)
        _w_double(&b, f.start_time)
        _w_double(&b, f.end_time)
        _w_items(&b, f.analysis_counts, True)
        _w_obj(&b, f.state())
        _w_obj(&b, f.history())
        # handshake: complete, frames, rtt_ms (Flow.handshake_facts)
        frames = (f._syn is not None) + (f._synack is not None) + (f._hs_ack is not None)
        _w_obj(&b, frames == 3)
        _w_tuple(&b, frames)
        for v in (f._syn, f._synack, f._hs_ack):
            if v is not None:
                _w_obj(&b, v)
        if frames == 3:
            _w_obj(&b, _round3(f._hs_ack_ts, f._syn_ts))
        else:
            _w_obj(&b, None)
        for v in f.teardown_facts():        # kind, initiator, frames
            _w_obj(&b, v)
        _w_obj(&b, f.window_shift(0))
        _w_obj(&b, f.window_shift(1))
        _w_ll(&b, f.base_seq(0))
        _w_ll(&b, f.base_seq(1))
        _w_obj(&b, f.initial_rtt)
        for v in (cs.m_dir, cs.m_off, cs.m_len, cs.m_pk, cs.pk, cs.coalesced):
            _w_obj(&b, v)
        _w_items(&b, cs.m_bad, False)
        _w_obj(&b, last[0])
        _w_obj(&b, last[1])
        _w_items(&b, cs.own, False)
        _w_ll(&b, cs.version)
        _w_obj(&b, cs.pkts)
        _w_reasm(&b, cs.reasm[0])
        _w_reasm(&b, cs.reasm[1])
        return PyBytes_FromStringAndSize(b.p, b.n)
    finally:
        PyMem_Free(b.p)


cdef inline bytes head_blob(CFlow f, object first_preset):
    """conv_blob.head_blob: marshal.dumps(the stand-in's flat head tuple, 2)."""
    cdef _Buf b
    cdef tuple client = f.client, server = f.server
    _start(&b, 64)
    try:
        _w_tuple(&b, 7)
        _w_obj(&b, client[0])
        _w_obj(&b, client[1])
        _w_obj(&b, server[0])
        _w_obj(&b, server[1])
        _w_ll(&b, f.syn_base(0))
        _w_ll(&b, f.syn_base(1))
        _w_obj(&b, first_preset)
        return PyBytes_FromStringAndSize(b.p, b.n)
    finally:
        PyMem_Free(b.p)
