"""`append(a, value)`, `first(a)`, `clear(a)` and `new_empty(like)` for the arrays of the hot
modules: array's own operations here.  Their compiled twins use C versions instead
(dissectors/c_arrays.pxd; setup.py leaves the import line of these out of a twin, whose .pxd
cimports them): the same
result, and any value or array they do not handle in C (a value out of range, buffers
exported, another item type) goes through the array's own operation, errors included."""
from __future__ import annotations

from array import array

append = array.append

# what new_empty is given for the item types the hot modules use (only their type is read)
BYTES, LONGS, UINTS = array("b"), array("q"), array("I")


def first(a) -> int:
    """a[0]."""
    return a[0]


def clear(a) -> None:
    """del a[:]."""
    del a[:]


def new_empty(like) -> array:
    """A new empty array of `like`'s item type."""
    return array(like.typecode)
