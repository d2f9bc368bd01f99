# C types for transport.py when setup.py compiles it as a twin (Cython augmenting .pxd): the
# TCP options of every SYN are read here
import cython

cdef bint COMPILED


@cython.locals(i=cython.Py_ssize_t, kind=cython.long, ln=cython.long, j=cython.Py_ssize_t,
               a=cython.ulonglong, b=cython.ulonglong)
cpdef dict tcp_options(bytes data, Py_ssize_t start, Py_ssize_t end)
