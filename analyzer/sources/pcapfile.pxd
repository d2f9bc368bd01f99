# pcapfile.py compiled as a twin by setup.py: the record loop (_records_into) runs once per
# packet of every classic pcap file read, the header numbers read in C; its classes stay
# Python classes
import cython

from analyzer.sources.c_frame_copy cimport frame_copy

cdef bint COMPILED


cpdef tuple _records_into(object buf, const unsigned char[:] view, object unpack, bint little,
                          Py_ssize_t pos, Py_ssize_t end, Py_ssize_t rsize, double scale,
                          object lt, Py_ssize_t usual, object out, Py_ssize_t limit,
                          Py_ssize_t stop_at, bint take_first)


@cython.locals(got=cython.Py_ssize_t, i0=cython.Py_ssize_t, i1=cython.Py_ssize_t,
               i2=cython.Py_ssize_t, i3=cython.Py_ssize_t, sec=cython.ulonglong,
               frac=cython.ulonglong, caplen=cython.ulonglong, olen=cython.ulonglong,
               data_pos=cython.Py_ssize_t, nxt=cython.Py_ssize_t, row=cython.Py_ssize_t)
cpdef tuple _fill_records(object buf, const unsigned char[:] view, object unpack, bint little,
                          Py_ssize_t pos, Py_ssize_t end, Py_ssize_t rsize, double scale,
                          unsigned int lt, Py_ssize_t usual, list data, double[::1] ts,
                          unsigned int[::1] linktype, long long[::1] origlen,
                          long long[::1] offset, Py_ssize_t base, Py_ssize_t limit,
                          Py_ssize_t stop_at, bint take_first)
