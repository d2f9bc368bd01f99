"""A hot module loaded again as plain Python, beside its compiled twin: what tests comparing
the two paths on the same input call."""
from __future__ import annotations

import importlib.util

import pytest


def load_pure(module, monkeypatch):
    """`module`'s .py executed anew under another name with WIRELAB_PURE=1 (its twin not
    swapped in); the test is skipped when `module` itself runs pure in this build (nothing
    to compare)."""
    if not hasattr(module, "__compiled__"):
        pytest.skip(f"{module.__name__} runs pure in this build (no twin to compare)")
    monkeypatch.setenv("WIRELAB_PURE", "1")
    name = "pure_" + module.__name__.replace(".", "_")
    spec = importlib.util.spec_from_file_location(name, module.__file__)
    pure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pure)
    assert not hasattr(pure, "__compiled__")
    return pure
