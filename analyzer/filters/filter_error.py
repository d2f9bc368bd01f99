"""The one error a display filter raises while compiling: a message and the column of the fault."""
from __future__ import annotations


class FilterError(ValueError):
    """A display filter could not be compiled; `position` is the 0-based column of the fault."""

    def __init__(self, message: str, position: int = 0):
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (at column {self.position + 1})"
