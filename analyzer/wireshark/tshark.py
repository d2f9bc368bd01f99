"""The one place that finds and runs tshark (clear WirelabError when it is missing or fails)."""
from __future__ import annotations

import os
import shutil
import subprocess

from analyzer.errors import WirelabError

DEFAULT_TIMEOUT = 600.0


class TsharkError(WirelabError):
    """tshark is missing, failed, or timed out."""


def find_tshark() -> str:
    """Path of the tshark binary ($WIRELAB_TSHARK wins); TsharkError when there is none."""
    override = os.environ.get("WIRELAB_TSHARK")
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        raise TsharkError(f"WIRELAB_TSHARK={override!r} is not an executable file")
    path = shutil.which("tshark")
    if not path:
        raise TsharkError("tshark not found: install it (apt-get install tshark) or set WIRELAB_TSHARK")
    return path


# tshark errors after which its output so far is still good (the packets before the damage)
TOLERATED = ("cut short in the middle of a packet",)


def run_tshark(args: list[str], timeout: float = DEFAULT_TIMEOUT,
               warnings: list[str] | None = None) -> str:
    """Run `tshark ARGS` and return its stdout; TsharkError with tshark's first error line.

    A truncated last packet is not an error: tshark's message goes to `warnings` (if given).
    """
    cmd = [find_tshark(), *args]
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C.UTF-8")
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise TsharkError(f"tshark did not finish within {timeout:.0f} s") from None
    except OSError as exc:
        raise TsharkError(f"cannot run tshark: {exc}") from None
    stderr = proc.stderr.decode("utf-8", "replace")
    lua_error = next((ln for ln in stderr.splitlines() if "Lua" in ln and "rror" in ln), None)
    lines = [ln.strip() for ln in stderr.splitlines()
             if ln.strip() and not ln.startswith("Running as user")]
    if proc.returncode != 0 and not lua_error and lines and all(
            any(t in ln for t in TOLERATED) for ln in lines):
        if warnings is not None:
            warnings.extend(lines)
        return proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0 or lua_error:
        first = lua_error or (lines[0] if lines else f"exit status {proc.returncode}")
        raise TsharkError(f"tshark failed: {first}")
    return proc.stdout.decode("utf-8", "replace")


def fields(path: str, names: list[str], *, display_filter: str | None = None,
           extra: list[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
           warnings: list[str] | None = None) -> list[list[str]]:
    """`tshark -r PATH -T fields -e NAME...`: one row (list of strings) per frame.

    Several occurrences of a field in one frame are joined with ","; absent fields are "".
    """
    if not os.path.isfile(path):
        raise TsharkError(f"no such file: {path}")
    args = ["-n", "-r", path, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
            "-E", "aggregator=,", "-E", "quote=n"]
    for name in names:
        args += ["-e", name]
    if display_filter:
        args += ["-Y", display_filter]
    args = list(extra or []) + args
    out = run_tshark(args, timeout=timeout, warnings=warnings)
    rows = []
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) < len(names):
            cols += [""] * (len(names) - len(cols))
        rows.append(cols[:len(names)])
    return rows
