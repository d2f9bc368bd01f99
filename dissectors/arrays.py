"""`append(a, value)` for the arrays of the hot modules: array.append itself here.  Their
compiled twins use a C append instead (dissectors/c_arrays.pxd; setup.py leaves the import
line below out of a twin, whose .pxd cimports it): the same result, and any value or array
it does not handle in C (a value out of range, buffers exported, another item type) goes
through array.append, errors included."""
from __future__ import annotations

from array import array

append = array.append
