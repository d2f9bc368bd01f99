# retired.py compiled as a twin by setup.py (packing and unpacking a closed conversation is
# Python-level work done once per conversation; its classes stay Python classes)
import cython
