# The C messages_text and ints_text the compiled twin of analyzer/render/summary_json.py
# cimports instead of analyzer/render/json_lists.py's (setup.py leaves the .py's import line
# out of the twin): the same text, the numbers written as digits into one char buffer sized
# beforehand (tests/render/test_json_lists.py compares the two).
cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.string cimport memcpy


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


cdef inline str ints_text(object values):
    cdef Py_ssize_t n = len(values), pos = 0
    cdef char small[352]
    cdef char *buf = small
    cdef long long v
    if n == 0:
        return ""
    if n > 16:
        buf = <char *>PyMem_Malloc(n * 21)
        if buf == NULL:
            raise MemoryError()
    try:
        for item in values:
            if type(item) is not int:
                return ",".join(map(str, values))   # (as the pure version)
            try:
                v = item
            except OverflowError:                   # (beyond 64 bits: likewise)
                return ",".join(map(str, values))
            if pos:
                buf[pos] = c','
                pos += 1
            pos += _digits(buf + pos, v)
        return buf[:pos].decode("ascii")
    finally:
        if buf != small:
            PyMem_Free(buf)
