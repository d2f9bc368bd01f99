# dissectors/lenmsg.py compiled as a twin by setup.py (its classes stay Python classes: the
# codec derives from a Python base class); this file is the Cython augmenting .pxd
