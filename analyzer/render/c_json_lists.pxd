# The C conv_text (with messages_text and the number lists) the compiled twin of
# analyzer/render/summary_json.py cimports instead of analyzer/render/json_lists.py's (setup.py
# leaves the .py's import line out of the twin): the same text, the numbers written as digits
# and the strings copied into one char buffer (tests/render/test_json_lists.py compares the two).
cimport cython
from cpython.conversion cimport PyOS_double_to_string
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.unicode cimport PyUnicode_AsUTF8AndSize
from libc.string cimport memcpy

from dissectors.c_buffer cimport _Buf, _put, _room, _start

cdef extern from "Python.h":
    int Py_DTSF_ADD_DOT_0
    bint PyUnicode_IS_ASCII(object s)


@cython.cdivision(True)
cdef inline Py_ssize_t _digits(char *p, long long v) noexcept nogil:
    """v in decimal at p; returns how many chars."""
    cdef char tmp[20]
    cdef unsigned long long u
    cdef Py_ssize_t k = 0, i = 0
    if v < 0:
        p[0] = c'-'
        i = 1
        u = <unsigned long long>(-(v + 1)) + 1
    else:
        u = <unsigned long long>v
    while True:
        tmp[k] = <char>(48 + u % 10)
        k += 1
        u = u / 10
        if u == 0:
            break
    while k:
        k -= 1
        p[i] = tmp[k]
        i += 1
    return i


cdef inline Py_ssize_t _text(char *p, const char *s, Py_ssize_t n) noexcept nogil:
    memcpy(p, s, n)
    return n


cdef inline tuple messages_text(Py_ssize_t n, const signed char[:] m_dir,
                                const long long[:] m_off, const long long[:] m_len,
                                const unsigned int[:] m_pk, const unsigned int[:] pk,
                                dict bad):
    cdef Py_ssize_t total = pk.shape[0], split = 0, i, j, a, b, size, pos = 0
    cdef dict why = {}
    cdef bytes w
    cdef char *buf
    cdef signed char d
    if bad:
        from json.encoder import encode_basestring_ascii   # (a str as json.dumps writes it)
        for i in range(n):
            if i in bad:
                why[i] = encode_basestring_ascii(bad[i]).encode("ascii")
    size = n * 128 + total * 11
    for w in why.values():
        size += len(w) + 16
    buf = <char *>PyMem_Malloc(size + 1)
    if buf == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            a = m_pk[i]
            b = m_pk[i + 1] if i + 1 < n else total
            d = m_dir[i]
            if d != 0 and d != 1:
                raise IndexError("tuple index out of range")
            if b > total and b > a:                 # arrays out of step: never read past pk
                raise IndexError("array index out of range")
            if i:
                buf[pos] = c','
                pos += 1
            pos += _text(buf + pos, b'{"index":', 9)
            pos += _digits(buf + pos, i)
            if d == 0:
                pos += _text(buf + pos, b',"direction":"c2s"', 18)
            else:
                pos += _text(buf + pos, b',"direction":"s2c"', 18)
            pos += _text(buf + pos, b',"offset":', 10)
            pos += _digits(buf + pos, m_off[i])
            pos += _text(buf + pos, b',"length":', 10)
            pos += _digits(buf + pos, m_len[i])
            pos += _text(buf + pos, b',"packets":[', 12)
            if b - a > 1:
                split += 1
            for j in range(a, b):
                if j > a:
                    buf[pos] = c','
                    pos += 1
                pos += _digits(buf + pos, pk[j])
            buf[pos] = c']'
            pos += 1
            if why and i in why:
                w = why[i]
                pos += _text(buf + pos, b',"malformed":', 13)
                pos += _text(buf + pos, w, len(w))
            buf[pos] = c'}'
            pos += 1
        return buf[:pos].decode("ascii"), split
    finally:
        PyMem_Free(buf)


cdef inline Py_ssize_t _put_digits(_Buf *b, long long v) except -1:
    """v in decimal."""
    _room(b, 21)
    b.n += _digits(b.p + b.n, v)
    return 0


cdef inline Py_ssize_t _put_raw(_Buf *b, str s) except -1:
    """Text as it is (JSON already)."""
    cdef Py_ssize_t n
    cdef const char *u = PyUnicode_AsUTF8AndSize(s, &n)
    return _put(b, u, n)


cdef inline Py_ssize_t _put_string(_Buf *b, str s) except -1:
    """A str as json.dumps writes it (encode_basestring_ascii)."""
    cdef Py_ssize_t n, i
    cdef const char *u
    cdef unsigned char c
    if s is None:
        raise TypeError("first argument must be a string, not None")
    if PyUnicode_IS_ASCII(s):
        u = PyUnicode_AsUTF8AndSize(s, &n)
        for i in range(n):
            c = <unsigned char>u[i]
            if c < 32 or c == 34 or c == 92:
                break
        else:
            _room(b, n + 2)
            b.p[b.n] = c'"'
            memcpy(b.p + b.n + 1, u, n)
            b.p[b.n + n + 1] = c'"'
            b.n += n + 2
            return 0
    from json.encoder import encode_basestring_ascii
    return _put_raw(b, encode_basestring_ascii(s))


cdef inline Py_ssize_t _put_int(_Buf *b, object v) except -1:
    """An int in decimal; anything else as str() writes it (an f-string's field)."""
    cdef long long x
    if type(v) is int:
        try:
            x = v
        except OverflowError:
            return _put_raw(b, repr(v))
        _put_digits(b, x)
        return 0
    return _put_raw(b, str(v))


@cython.cdivision(True)
cdef inline Py_ssize_t _put_float(_Buf *b, double x) except -1:
    """A finite float as repr writes it.  Most floats of a capture are times with at most 6
    decimals (microsecond timestamps, RTTs in milliseconds rounded to 3 decimals): when x is
    the double nearest to such a decimal D and the doubles around x lie closer than 1e-6 (x
    below 2**33), no other decimal of 6 decimals or fewer rounds to x, so D (trailing zeros
    dropped) is the shortest decimal that does: repr's text, written here in digits.  Any
    other float (and x below 1e-4, which repr writes with an exponent) through
    PyOS_double_to_string."""
    cdef long long d, frac
    cdef char *f
    cdef Py_ssize_t k, i
    if 1e-4 <= x < 8589934592.0:
        d = <long long>(x * 1e6 + 0.5)
        if <double>d / 1e6 == x:
            _room(b, 32)
            b.n += _digits(b.p + b.n, d // 1000000)
            b.p[b.n] = c'.'
            frac = d % 1000000
            if frac == 0:
                b.p[b.n + 1] = c'0'
                b.n += 2
                return 0
            k = 6
            while frac % 10 == 0:
                frac //= 10
                k -= 1
            i = b.n + 1 + k                 # the k decimals left, the last one first
            b.n, i = i, i - 1
            while k:
                b.p[i] = <char>(48 + frac % 10)
                frac //= 10
                i -= 1
                k -= 1
            return 0
    f = PyOS_double_to_string(x, b'r', 0, Py_DTSF_ADD_DOT_0, NULL)
    try:
        _put(b, f, len(f))
    finally:
        PyMem_Free(f)
    return 0


cdef inline Py_ssize_t _put_value(_Buf *b, object v) except -1:
    """value_text(v): a number, bool, None or str as json.dumps writes it."""
    cdef double x
    cdef char *f
    t = type(v)
    if t is int:
        return _put_int(b, v)
    if t is float:
        x = v
        if x - x == 0.0:                         # finite
            return _put_float(b, x)
    elif t is str:
        return _put_string(b, v)
    elif v is None:
        return _put(b, b"null", 4)
    elif t is bool:
        return _put(b, b"true", 4) if v else _put(b, b"false", 5)
    import json
    return _put_raw(b, json.dumps(v, separators=(",", ":")))


cdef inline Py_ssize_t _put_ints(_Buf *b, object values) except -1:
    """ints_text(values)."""
    cdef Py_ssize_t k = 0
    for item in values:
        if type(item) is not int:
            return _put_raw(b, ",".join(map(str, values)))
    for item in values:
        if k:
            _put(b, b",", 1)
        _put_int(b, item)
        k += 1
    return 0


cdef inline str conv_text(object cid, object transport, object client, object server,
                          object state, object history, tuple hs, tuple td, object protocol,
                          object first, object last, object start, object end, object packets,
                          object b1, object b2, Py_ssize_t n, object arrays, dict bad,
                          object coalesced, str analysis, object malformed, object gaps,
                          str choice):
    cdef _Buf b
    cdef Py_ssize_t k
    cdef object messages = ""
    cdef object split = 0
    if n:
        m_dir, m_off, m_len, m_pk, pk = arrays
        messages, split = messages_text(n, m_dir, m_off, m_len, m_pk, pk, bad)
    complete, hs_frames, rtt = hs
    kind, initiator, td_frames = td
    _start(&b, 1024 + len(messages))
    try:
        _put(&b, b'{"id":', 6)
        _put_int(&b, cid)
        _put(&b, b',"transport":', 13)
        _put_string(&b, transport)
        _put(&b, b',"client":', 10)
        _put_string(&b, client)
        _put(&b, b',"server":', 10)
        _put_string(&b, server)
        _put(&b, b',"state":', 9)
        _put_string(&b, state)
        _put(&b, b',"history":', 11)
        _put_string(&b, history)
        _put(&b, b',"handshake":{"complete":', 25)
        _put_value(&b, complete)
        _put(&b, b',"frames":[', 11)
        _put_ints(&b, hs_frames)
        _put(&b, b'],"rtt_ms":', 11)
        _put_value(&b, rtt)
        _put(&b, b'},"teardown":{"kind":', 21)
        _put_value(&b, kind)
        _put(&b, b',"initiator":', 13)
        _put_value(&b, initiator)
        _put(&b, b',"frames":[', 11)
        _put_ints(&b, td_frames)
        _put(&b, b']},"protocol":', 14)
        _put_value(&b, protocol)
        _put(&b, b',"first_packet":', 16)
        _put_value(&b, first)
        _put(&b, b',"last_packet":', 15)
        _put_value(&b, last)
        _put(&b, b',"start_time":', 14)
        _put_value(&b, start)
        _put(&b, b',"end_time":', 12)
        _put_value(&b, end)
        _put(&b, b',"packets":', 11)
        _put_int(&b, packets)
        _put(&b, b',"bytes_c2s":', 13)
        _put_int(&b, b1)
        _put(&b, b',"bytes_s2c":', 13)
        _put_int(&b, b2)
        _put(&b, b',"messages":[', 13)
        _put_raw(&b, messages)
        _put(&b, b'],"coalesced_packets":[', 23)
        _put_ints(&b, coalesced)
        _put(&b, b'],"split_messages":', 19)
        _put_int(&b, split)
        _put(&b, b',"analysis":', 12)
        _put_raw(&b, analysis)
        _put(&b, b',"malformed":[', 14)
        k = 0
        for why in malformed:
            if k:
                _put(&b, b",", 1)
            _put_string(&b, why)
            k += 1
        _put(&b, b'],"gaps":[', 10)
        k = 0
        for d, o, ln in gaps:
            if k:
                _put(&b, b",", 1)
            _put(&b, b'{"direction":"', 14)
            _put_raw(&b, str(d))
            _put(&b, b'","offset":', 11)
            _put_int(&b, o)
            _put(&b, b',"length":', 10)
            _put_int(&b, ln)
            _put(&b, b',"text":"[', 10)
            _put_int(&b, ln)
            _put(&b, b' bytes missing]"}', 17)
            k += 1
        _put(&b, b']', 1)
        _put_raw(&b, choice)
        _put(&b, b'}', 1)
        return b.p[:b.n].decode("utf-8")
    finally:
        PyMem_Free(b.p)
