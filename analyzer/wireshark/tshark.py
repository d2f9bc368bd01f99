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
    _check_stderr(proc.returncode, proc.stderr.decode("utf-8", "replace"), warnings)
    return proc.stdout.decode("utf-8", "replace")


def _field_args(path: str, names: list[str], display_filter: str | None,
                extra: list[str] | None) -> list[str]:
    if not os.path.isfile(path):
        raise TsharkError(f"no such file: {path}")
    args = ["-n", "-r", path, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
            "-E", "aggregator=,", "-E", "quote=n"]
    for name in names:
        args += ["-e", name]
    if display_filter:
        args += ["-Y", display_filter]
    return list(extra or []) + args


def _check_stderr(returncode: int, stderr: str, warnings: list[str] | None) -> None:
    lua_error = next((ln for ln in stderr.splitlines() if "Lua" in ln and "rror" in ln), None)
    lines = [ln.strip() for ln in stderr.splitlines()
             if ln.strip() and not ln.startswith("Running as user")]
    if returncode != 0 and not lua_error and lines and all(
            any(t in ln for t in TOLERATED) for ln in lines):
        if warnings is not None:
            warnings.extend(lines)
        return
    if returncode != 0 or lua_error:
        first = lua_error or (lines[0] if lines else f"exit status {returncode}")
        raise TsharkError(f"tshark failed: {first}")


def iter_fields(path: str, names: list[str], *, display_filter: str | None = None,
                extra: list[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
                warnings: list[str] | None = None):
    """Like fields(), but yields the rows while tshark runs (memory stays flat on big files).

    The error check (TsharkError) happens when the output is exhausted.
    """
    import tempfile
    import threading

    cmd = [find_tshark(), *_field_args(path, names, display_filter, extra)]
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C.UTF-8")
    n = len(names)
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env,
                                    stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise TsharkError(f"cannot run tshark: {exc}") from None
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            for raw in proc.stdout:
                cols = raw.decode("utf-8", "replace").rstrip("\n").split("\t")
                if len(cols) < n:
                    cols += [""] * (n - len(cols))
                yield cols[:n]
            proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if expired.is_set():
            raise TsharkError(f"tshark did not finish within {timeout:.0f} s")
        err.seek(0)
        _check_stderr(proc.returncode, err.read().decode("utf-8", "replace"), warnings)


def fields(path: str, names: list[str], *, display_filter: str | None = None,
           extra: list[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
           warnings: list[str] | None = None) -> list[list[str]]:
    """`tshark -r PATH -T fields -e NAME...`: one row (list of strings) per frame.

    Several occurrences of a field in one frame are joined with ","; absent fields are "".
    """
    return list(iter_fields(path, names, display_filter=display_filter, extra=extra,
                            timeout=timeout, warnings=warnings))
