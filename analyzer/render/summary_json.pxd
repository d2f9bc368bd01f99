# summary_json.py compiled as a twin by setup.py: run once per conversation (and message) of every summary;
# its classes stay Python classes
import cython

cpdef str _value(object v)
cpdef str _ints(object values)
cpdef str _analysis_text(dict analysis)
cpdef str _packed_analysis_text(tuple key)
cpdef str _choice_text(object eng, str transport, long long conv_id)


@cython.locals(total=cython.Py_ssize_t, split=cython.Py_ssize_t, i=cython.Py_ssize_t,
               a=cython.Py_ssize_t, b=cython.Py_ssize_t)
cpdef tuple _messages_text(Py_ssize_t n, const signed char[:] m_dir, const long long[:] m_off,
                           const long long[:] m_len, const unsigned int[:] m_pk, object pk,
                           const unsigned int[:] pk_view, dict bad)
