# summary_json.py compiled as a twin by setup.py: run once per conversation (and message) of every summary;
# its classes stay Python classes
import cython

cpdef str _value(object v)
