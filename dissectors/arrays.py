"""`append(a, value)`, `first(a)` and `clear(a)` for the arrays of the hot modules: array's
own operations here.  Their compiled twins use C versions instead (dissectors/c_arrays.pxd;
setup.py leaves the import line of these out of a twin, whose .pxd cimports them): the same
result, and any value or array they do not handle in C (a value out of range, buffers
exported, another item type) goes through the array's own operation, errors included."""
from __future__ import annotations

from array import array

append = array.append


def first(a) -> int:
    """a[0]."""
    return a[0]


def clear(a) -> None:
    """del a[:]."""
    del a[:]
