# The C packed_text the compiled twin of analyzer/render/summary_json.py cimports instead of
# analyzer/render/packed_text.py's (setup.py leaves the .py's import line out of the twin): the
# same text, read from the packed conversation's head and blob where they lie (marshal's
# version 2 of the flat tuples analyzer/engine/retired.py writes) and written into one buffer
# with c_json_lists' writers.  None, as the pure version gives it, for a conversation with
# malformed messages or gaps, or analysis counts whose text `analysis_texts` does not hold yet;
# None also for anything this reader does not take (a string needing escapes, a
# number beyond 60 bits or not finite, items not of the layout's types): the caller then
# writes it the general way, which gives the same text (tests/render/test_packed_text.py).
cimport cython
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free
from libc.string cimport memcpy

from analyzer.render.c_json_lists cimport (_digits, _put_digits, _put_float, _put_raw,
                                           _put_value)
from dissectors.c_buffer cimport _Buf, _put, _room, _start

cdef extern from "Python.h":
    double PyFloat_Unpack8(const char *p, int le)


cdef struct _Val:
    char kind           # the marshal type code: i/l int, g float, s bytes, u str, N, T, F, ( tuple
    long long i         # an int; a tuple's item count
    double g            # a float
    const char *p       # bytes and str: their data; a tuple: its first item
    Py_ssize_t n        # bytes and str: their length


cdef inline long long _le32(const char *p) noexcept nogil:
    cdef const unsigned char *q = <const unsigned char *>p
    return <int>(<unsigned int>q[0] | (<unsigned int>q[1] << 8) | (<unsigned int>q[2] << 16)
                 | (<unsigned int>q[3] << 24))


cdef inline long long _le64(const char *p) noexcept nogil:
    cdef const unsigned char *q = <const unsigned char *>p
    cdef unsigned long long u = 0
    cdef int k
    for k in range(7, -1, -1):
        u = (u << 8) | q[k]
    return <long long>u


cdef inline unsigned int _le32u(const char *p) noexcept nogil:
    cdef const unsigned char *q = <const unsigned char *>p
    return q[0] | (<unsigned int>q[1] << 8) | (<unsigned int>q[2] << 16) | (<unsigned int>q[3] << 24)


cdef inline const char *_read(const char *p, const char *end, _Val *v, int depth) noexcept:
    """The marshal item at p into v; where it ends, or NULL (cut short, or not taken here)."""
    cdef unsigned char code
    cdef long long n, k, d
    cdef unsigned long long u
    cdef const unsigned char *q
    cdef _Val inner
    if p >= end:
        return NULL
    code = <unsigned char>p[0]
    p += 1
    v.kind = <char>code
    if code == c'N' or code == c'T' or code == c'F':
        return p
    if code == c'i':
        if end - p < 4:
            return NULL
        v.i = _le32(p)
        return p + 4
    if code == c'g':
        if end - p < 8:
            return NULL
        v.g = PyFloat_Unpack8(p, 1)
        return p + 8
    if code == c'l':                          # 15-bit digits, the lowest first
        if end - p < 4:
            return NULL
        n = _le32(p)
        k = n if n >= 0 else -n
        if k == 0 or k > 4 or end - p - 4 < 2 * k:
            return NULL
        q = <const unsigned char *>(p + 4)
        u = 0
        for d in range(k - 1, -1, -1):
            if q[2 * d + 1] & 0x80:                 # a digit beyond 15 bits: not marshal's
                return NULL
            u = (u << 15) | q[2 * d] | (<unsigned long long>q[2 * d + 1] << 8)
        v.i = <long long>u if n > 0 else -<long long>u
        return p + 4 + 2 * k
    if code == c's' or code == c'u':
        if end - p < 4:
            return NULL
        n = _le32(p)
        if n < 0 or end - p - 4 < n:
            return NULL
        v.p, v.n = p + 4, n
        return p + 4 + n
    if code == c'(':
        if end - p < 4 or depth > 3:
            return NULL
        n = _le32(p)
        if n < 0:
            return NULL
        v.i = n
        p += 4
        v.p = p
        for k in range(n):
            p = _read(p, end, &inner, depth + 1)
            if p == NULL:
                return NULL
        return p
    return NULL


cdef inline const char *_items(object data, _Val *out, const char **starts,
                               Py_ssize_t count) except? NULL:
    """The `count` items of the flat tuple marshalled in `data` (and where each starts,
    starts[count] where the last ends); NULL if it is not one."""
    cdef const char *p = data
    cdef const char *end = p + len(data)
    cdef Py_ssize_t k
    if end - p < 5 or p[0] != c'(' or _le32(p + 1) != count:
        return NULL
    p += 5
    for k in range(count):
        starts[k] = p
        p = _read(p, end, &out[k], 0)
        if p == NULL:
            return NULL
    starts[count] = p
    return p


cdef inline bint _safe(const char *p, Py_ssize_t n) noexcept nogil:
    """Text json.dumps writes as it is (printable ASCII, no quote or backslash)."""
    cdef Py_ssize_t k
    cdef unsigned char c
    for k in range(n):
        c = <unsigned char>p[k]
        if c < 32 or c > 126 or c == 34 or c == 92:
            return False
    return True


cdef inline bint _put_item(_Buf *b, _Val *v) except -1:
    """value_text of the item; False when not taken here."""
    cdef char k = v.kind
    if k == c'i' or k == c'l':
        _put_digits(b, v.i)
    elif k == c'g':
        if not v.g - v.g == 0.0:
            return False
        _put_float(b, v.g)
    elif k == c'u':
        if not _safe(v.p, v.n):
            return False
        _put(b, b'"', 1)
        _put(b, v.p, v.n)
        _put(b, b'"', 1)
    elif k == c'N':
        _put(b, b"null", 4)
    elif k == c'T':
        _put(b, b"true", 4)
    elif k == c'F':
        _put(b, b"false", 5)
    else:
        return False
    return True


cdef inline bint _put_ints(_Buf *b, _Val *t, const char *end) except -1:
    """A tuple of ints as ints_text writes it; False when not taken here."""
    cdef _Val v
    cdef const char *p = t.p
    cdef long long k
    if t.kind != c'(':
        return False
    for k in range(t.i):
        p = _read(p, end, &v, 1)
        if p == NULL or (v.kind != c'i' and v.kind != c'l'):
            return False
        if k:
            _put(b, b",", 1)
        _put_digits(b, v.i)
    return True


cdef inline bint _put_endpoint(_Buf *b, _Val *ip, _Val *port) except -1:
    """endpoint_text((ip, port)) as a JSON string; False when not taken here."""
    cdef Py_ssize_t k
    cdef bint v6 = False
    if ip.kind != c'u' or (port.kind != c'i' and port.kind != c'l') or not _safe(ip.p, ip.n):
        return False
    for k in range(ip.n):
        if ip.p[k] == c':':
            v6 = True
    if v6:
        _put(b, b'"[', 2)
    else:
        _put(b, b'"', 1)
    _put(b, ip.p, ip.n)
    if v6:
        _put(b, b']:', 2)
    else:
        _put(b, b':', 1)
    _put_digits(b, port.i)
    _put(b, b'"', 1)
    return True


@cython.cdivision(True)
cdef inline bint _put_messages(_Buf *b, _Val *v, Py_ssize_t *split) except -1:
    """messages_text of the blob's arrays (v: m_dir, m_off, m_len, m_pk, pk), no malformed
    message; False when the arrays are not of one conversation."""
    cdef Py_ssize_t n = v[0].n, total, i, j, a, e
    cdef signed char d
    for i in range(5):
        if v[i].kind != c's':
            return False
    if v[1].n != 8 * n or v[2].n != 8 * n or v[3].n != 4 * n or v[4].n % 4:
        return False
    total = v[4].n // 4
    for i in range(n):
        a = _le32u(v[3].p + 4 * i)
        e = _le32u(v[3].p + 4 * i + 4) if i + 1 < n else total
        d = <signed char>v[0].p[i]
        if (d != 0 and d != 1) or (e > total and e > a):
            return False
        _room(b, 160 + 11 * (e - a if e > a else 0))
        if i:
            _put(b, b",", 1)
        _put(b, b'{"index":', 9)
        b.n += _digits(b.p + b.n, i)
        _put(b, b',"direction":"s2c"' if d else b',"direction":"c2s"', 18)
        _put(b, b',"offset":', 10)
        b.n += _digits(b.p + b.n, _le64(v[1].p + 8 * i))
        _put(b, b',"length":', 10)
        b.n += _digits(b.p + b.n, _le64(v[2].p + 8 * i))
        _put(b, b',"packets":[', 12)
        if e - a > 1:
            split[0] += 1
        for j in range(a, e):
            if j > a:
                _put(b, b",", 1)
            b.n += _digits(b.p + b.n, _le32u(v[4].p + 4 * j))
        _put(b, b']}', 2)
    return True


cdef inline bint _put_uints(_Buf *b, _Val *v) except -1:
    """An array of unsigned ints (bytes) as ints_text writes it; False when not one."""
    cdef Py_ssize_t k
    if v.kind != c's' or v.n % 4:
        return False
    _room(b, 11 * (v.n // 4))
    for k in range(v.n // 4):
        if k:
            b.p[b.n] = c','
            b.n += 1
        b.n += _digits(b.p + b.n, _le32u(v.p + 4 * k))
    return True


cdef inline bint _empty(_Val *v) noexcept nogil:
    return v.kind == c'(' and v.i == 0


cdef inline object packed_text(long long cid, object protocol, object head, object blob,
                               dict analysis_texts, str choice):
    cdef _Val v[47]
    cdef _Val h[7]
    cdef const char *at[48]
    cdef const char *head_at[8]
    cdef _Buf b
    cdef Py_ssize_t split = 0, k, n7, n30
    cdef bytes key
    cdef char *kp
    cdef const char *end = _items(blob, v, at, 47)
    cdef const char *head_end = _items(head, h, head_at, 7)
    if end == NULL or head_end == NULL:
        return None
    if not (_empty(&v[27]) and _empty(&v[35]) and _empty(&v[42])):
        return None                 # malformed messages or gaps: the pure version gives None
    n7, n30 = at[8] - at[7], at[31] - at[30]        # the analysis counts' key: their bytes
    key = PyBytes_FromStringAndSize(NULL, n7 + n30)
    kp = key
    memcpy(kp, at[7], n7)
    memcpy(kp + n7, at[30], n30)
    analysis = analysis_texts.get(key)
    if analysis is None:
        return None
    for k in range(5):
        if v[k].kind != c'i' and v[k].kind != c'l':
            return None
    if v[8].kind != c'u' or v[9].kind != c'u':
        return None
    _start(&b, 1024 + v[25].n * 3 + v[21].n * 128)
    try:
        _put(&b, b'{"id":', 6)
        _put_digits(&b, cid)
        _put(&b, b',"transport":"tcp","client":', 28)
        if not _put_endpoint(&b, &h[0], &h[1]):
            return None
        _put(&b, b',"server":', 10)
        if not _put_endpoint(&b, &h[2], &h[3]):
            return None
        _put(&b, b',"state":', 9)
        if not _put_item(&b, &v[8]):
            return None
        _put(&b, b',"history":', 11)
        if not _put_item(&b, &v[9]):
            return None
        _put(&b, b',"handshake":{"complete":', 25)
        if v[10].kind != c'T' and v[10].kind != c'F':
            return None
        _put_item(&b, &v[10])
        _put(&b, b',"frames":[', 11)
        if not _put_ints(&b, &v[11], end):
            return None
        _put(&b, b'],"rtt_ms":', 11)
        if not _put_item(&b, &v[12]):
            return None
        _put(&b, b'},"teardown":{"kind":', 21)
        if not _put_item(&b, &v[13]):
            return None
        _put(&b, b',"initiator":', 13)
        if not _put_item(&b, &v[14]):
            return None
        _put(&b, b',"frames":[', 11)
        if not _put_ints(&b, &v[15], end):
            return None
        _put(&b, b']},"protocol":', 14)
        _put_value(&b, protocol)
        _put(&b, b',"first_packet":', 16)
        _put_item(&b, &v[0])
        _put(&b, b',"last_packet":', 15)
        _put_item(&b, &v[1])
        _put(&b, b',"start_time":', 14)
        if not _put_item(&b, &v[5]) or v[5].kind != c'g':
            return None
        _put(&b, b',"end_time":', 12)
        if not _put_item(&b, &v[6]) or v[6].kind != c'g':
            return None
        _put(&b, b',"packets":', 11)
        _put_item(&b, &v[2])
        _put(&b, b',"bytes_c2s":', 13)
        _put_item(&b, &v[3])
        _put(&b, b',"bytes_s2c":', 13)
        _put_item(&b, &v[4])
        _put(&b, b',"messages":[', 13)
        if not _put_messages(&b, &v[21], &split):
            return None
        _put(&b, b'],"coalesced_packets":[', 23)
        if not _put_uints(&b, &v[26]):
            return None
        _put(&b, b'],"split_messages":', 19)
        _put_digits(&b, split)
        _put(&b, b',"analysis":', 12)
        _put_raw(&b, analysis)
        _put(&b, b',"malformed":[],"gaps":[]', 25)
        _put_raw(&b, choice)
        _put(&b, b'}', 1)
        return b.p[:b.n].decode("utf-8")
    finally:
        PyMem_Free(b.p)
