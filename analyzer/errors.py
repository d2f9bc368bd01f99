"""Errors the CLI turns into one clear line on stderr and a non-zero exit status."""


class WirelabError(Exception):
    """A user-facing error: bad input file, bad option, missing privilege. Never a bug."""

    exit_code = 2


class CaptureFormatError(WirelabError):
    """The capture file cannot be read at all (empty, unknown magic, bad header...)."""


class PermissionNeeded(WirelabError):
    """Live capture without root / CAP_NET_RAW."""

    exit_code = 3
