# A growing char buffer for the C writers the twins cimport (the summary text of
# analyzer/render/c_json_lists.pxd, the packed blob of analyzer/engine/c_conv_blob.pxd):
# _start it, _put bytes, read b.p[:b.n], PyMem_Free(b.p) when done.
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc
from libc.string cimport memcpy


cdef struct _Buf:
    char *p
    Py_ssize_t n, cap


cdef inline Py_ssize_t _room(_Buf *b, Py_ssize_t more) except -1:
    """At least `more` free chars at b.p + b.n."""
    cdef Py_ssize_t cap
    cdef char *q
    if b.n + more <= b.cap:
        return 0
    cap = b.cap * 2
    if cap < b.n + more:
        cap = b.n + more
    q = <char *>PyMem_Realloc(b.p, cap)
    if q == NULL:
        raise MemoryError()
    b.p, b.cap = q, cap
    return 0


cdef inline Py_ssize_t _start(_Buf *b, Py_ssize_t cap) except -1:
    """An empty buffer of `cap` chars (PyMem_Free(b.p) when done)."""
    b.n, b.cap = 0, cap
    b.p = <char *>PyMem_Malloc(cap)
    if b.p == NULL:
        raise MemoryError()
    return 0


cdef inline Py_ssize_t _put(_Buf *b, const char *s, Py_ssize_t n) except -1:
    _room(b, n)
    memcpy(b.p + b.n, s, n)
    b.n += n
    return 0
