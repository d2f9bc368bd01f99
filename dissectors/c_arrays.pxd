# The C append, first, clear and new_empty the hot modules' twins cimport instead of
# dissectors/arrays.py's (setup.py leaves the .py's import line out of a twin).  Same results
# as array.append, a[0], del a[:] and array(like.typecode) (made by cloning `like`): an
# array of long long ('q'), unsigned int ('I') or signed char ('b') that exports no buffer
# grows, is read and is emptied in C; a value out of the item's range, an array exporting a
# buffer (array.append raises BufferError), an empty array (a[0] raises IndexError) or
# another item type takes the array's own operation.
from cpython.array cimport array, clone, resize, resize_smart
from cpython.object cimport Py_SIZE

cdef extern from *:
    """
    #define wirelab_array_exports(a) (((arrayobject *)(a))->ob_exports)
    """
    int wirelab_array_exports(array a)


cdef inline int append(array a, long long v) except -1:
    cdef Py_ssize_t n = Py_SIZE(a)
    cdef char code = a.ob_descr.typecode
    if wirelab_array_exports(a) == 0:
        if code == c'q':
            resize_smart(a, n + 1)
            a.data.as_longlongs[n] = v
            return 0
        if code == c'I' and 0 <= v <= 0xFFFFFFFF:
            resize_smart(a, n + 1)
            a.data.as_uints[n] = <unsigned int>v
            return 0
        if code == c'b' and -128 <= v <= 127:
            resize_smart(a, n + 1)
            a.data.as_schars[n] = <signed char>v
            return 0
    a.append(v)
    return 0


cdef inline long long first(array a) except? -1:
    if Py_SIZE(a) > 0:
        code = a.ob_descr.typecode
        if code == c'q':
            return a.data.as_longlongs[0]
        if code == c'I':
            return a.data.as_uints[0]
        if code == c'b':
            return a.data.as_schars[0]
    return a[0]


cdef inline int clear(array a) except -1:
    if wirelab_array_exports(a) == 0:
        resize(a, 0)
    else:
        del a[:]
    return 0


cdef inline array new_empty(array like):
    return clone(like, 0, False)
