# The C frame_copy the compiled twin of analyzer/sources/pcapfile.py cimports instead of
# analyzer/sources/frame_copy.py's (setup.py leaves the .py's import line out of the twin): a
# record's frame made as bytes straight from the mapped file (no slice object, no mmap
# subscript), cut at the buffer's end as slicing does.
from cpython.bytes cimport PyBytes_FromStringAndSize


cdef inline bytes frame_copy(const unsigned char[:] view, Py_ssize_t start, Py_ssize_t stop):
    cdef Py_ssize_t size = view.shape[0]
    if stop > size:
        stop = size
    if start >= stop:
        return b""
    return PyBytes_FromStringAndSize(<const char *>&view[start], stop - start)
