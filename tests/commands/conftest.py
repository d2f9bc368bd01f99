"""Fixtures of the command tests."""
from tests.commands.bad_input import bad  # noqa: F401  (a folder of broken capture files)
