"""The filexfer server's upload directory: safe names, temp files, no overwrite, a quota.

Names are checked with dissectors.filexfer.filename_problem (no traversal, absolute paths,
separators, NUL, drive prefixes, empty/"."/"..", over 255 bytes) and here (bidirectional
control characters, the temp-file prefix).  Content goes into a temp file in the same
directory and is linked into place only when complete and verified; os.link() fails when the
name exists, so an existing file is never overwritten.  Each temp file is flock()ed while its
upload runs: at start-up, temp files nobody holds (left by a killed server) are removed.
An upload is refused up front when it would pass the directory's quota or the free space,
and fails with a status naming the cause when the disk fills while it is written.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
import tempfile
import threading

from dissectors.filexfer import filename_problem

TEMP_PREFIX = ".wirelab-upload-"
DEFAULT_MAX_UPLOAD = 1 << 30          # 1 GiB per upload
DEFAULT_QUOTA = 4 << 30               # 4 GiB for the whole upload directory
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_DISK_ERRORS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
                errno.EFBIG: "file too large for the server's file size limit"}


class UploadRejected(Exception):
    """The upload cannot be accepted; str() is the reason sent to the client."""


def disk_problem(exc: OSError) -> str:
    """What a failed write means, in words (no errno numbers)."""
    return _DISK_ERRORS.get(exc.errno, f"cannot write the upload: {exc.strerror or exc}")


def local_name_problem(name: str) -> str | None:
    """What this server refuses beyond filename_problem: names that display misleadingly
    (bidirectional controls reorder the text: 'gpj.exe' shown as 'exe.jpg') and its own
    temp-file prefix."""
    if any(c in BIDI_CONTROLS for c in name):
        return "filename contains bidirectional control characters"
    if name.startswith(TEMP_PREFIX):
        return f"filename uses the server's temp-file prefix {TEMP_PREFIX}"
    return None


class FileStore:
    """The upload directory.  ValueError (one line) when it cannot be used at all."""

    def __init__(self, root: str, *, quota: int = DEFAULT_QUOTA):
        self.root = os.path.realpath(root)
        self.quota = quota
        self._lock = threading.Lock()
        self._reserved = 0            # bytes promised to uploads in progress
        try:
            os.makedirs(self.root, exist_ok=True)
        except FileExistsError:
            raise ValueError(f"cannot use upload directory {root}: not a directory") from None
        except OSError as exc:
            raise ValueError(f"cannot use upload directory {root}: {exc.strerror or exc}") from None
        self._check_writable(root)
        self.stale_removed = self._remove_stale_temps()

    def _check_writable(self, shown: str) -> None:
        try:
            fd, probe = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.root)
        except OSError as exc:
            raise ValueError(f"cannot use upload directory {shown}: {exc.strerror or exc}") from None
        os.close(fd)
        os.unlink(probe)

    def _remove_stale_temps(self) -> int:
        """Remove the temp files no running upload holds (a killed server's); their count."""
        removed = 0
        for name in self.temp_files():
            path = os.path.join(self.root, name)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # fails while an upload runs
                os.unlink(path)
                removed += 1
            except OSError:
                pass
            finally:
                os.close(fd)
        return removed

    def path_of(self, name: str) -> str:
        problem = filename_problem(name) or local_name_problem(name)
        if problem:
            raise UploadRejected(problem)
        path = os.path.join(self.root, name)
        if os.path.dirname(path) != self.root:   # belt and braces after the name check
            raise UploadRejected("filename escapes the upload directory")
        return path

    def begin(self, name: str, size: int, sha256: str | None) -> "PendingUpload":
        path = self.path_of(name)
        if os.path.lexists(path):
            raise UploadRejected(f"{name!r} already exists")
        with self._lock:
            used = self.used_bytes() + self._reserved
            if used + size > self.quota:
                raise UploadRejected(f"quota exceeded: the upload directory holds {used} of "
                                     f"{self.quota} bytes, {size} more do not fit")
            st = os.statvfs(self.root)
            free = st.f_bavail * st.f_frsize - self._reserved
            if size > free:
                raise UploadRejected(f"no space left on device: {max(free, 0)} bytes free, {size} needed")
            self._reserved += size
        try:
            return PendingUpload(self, name, path, size, sha256)
        except OSError as exc:
            self.release(size)
            raise UploadRejected(disk_problem(exc)) from None

    def release(self, size: int) -> None:
        with self._lock:
            self._reserved -= size

    def used_bytes(self) -> int:
        """Bytes of the stored files (temp files are counted by their reservation)."""
        total = 0
        with os.scandir(self.root) as it:
            for entry in it:
                if not entry.name.startswith(TEMP_PREFIX):
                    try:
                        if entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        pass
        return total

    def open_stored(self, name: str):
        """(file object, size, sha256 hex) of a stored regular file; UploadRejected otherwise."""
        path = self.path_of(name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            raise UploadRejected(f"no such file {name!r}") from None
        f = os.fdopen(fd, "rb")
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            f.close()
            raise UploadRejected(f"not a regular file {name!r}")
        h = hashlib.sha256()
        left = st.st_size
        while left > 0:
            chunk = f.read(min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        f.seek(0)
        return f, st.st_size, h.hexdigest()

    def temp_files(self) -> list[str]:
        return [n for n in os.listdir(self.root) if n.startswith(TEMP_PREFIX)]


class PendingUpload:
    """One upload in progress: write(), then commit() or abort() (always one of them).
    A disk that fills (or any write error) raises UploadRejected naming the cause."""

    def __init__(self, store: FileStore, name: str, path: str, size: int, sha256: str | None):
        self.name, self.path, self.size, self.expected_sha = name, path, size, sha256
        self._store = store
        fd, self.temp_path = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=store.root)
        fcntl.flock(fd, fcntl.LOCK_EX)       # "in use": a server starting meanwhile keeps it
        self._f = os.fdopen(fd, "wb", buffering=0)
        self._hash = hashlib.sha256()
        self.written = 0
        self._done = False

    def write(self, data: bytes) -> None:
        if self.written + len(data) > self.size:
            raise UploadRejected("more content than filesize")
        try:
            view = memoryview(data)
            while view:
                view = view[self._f.write(view):]
        except OSError as exc:
            raise UploadRejected(disk_problem(exc)) from None
        self._hash.update(data)
        self.written += len(data)

    def commit(self) -> str:
        """Move into place; returns the sha256.  UploadRejected (temp removed) on mismatch."""
        try:
            if self.written != self.size:
                raise UploadRejected(f"short upload: {self.written} of {self.size} bytes")
            digest = self._hash.hexdigest()
            if self.expected_sha is not None and digest != self.expected_sha:
                raise UploadRejected("sha256 mismatch")
            try:
                os.link(self.temp_path, self.path)   # fails if the name exists: no overwrite
            except FileExistsError:
                raise UploadRejected(f"{self.name!r} already exists") from None
            except OSError as exc:
                raise UploadRejected(disk_problem(exc)) from None
            return digest
        finally:
            self._end()

    def abort(self) -> None:
        self._end()

    def _end(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass
        finally:
            self._f.close()                       # unbuffered: nothing left to flush
            self._store.release(self.size)
