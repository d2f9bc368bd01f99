"""The filexfer server's upload directory: safe names, temp files, no overwrite.

Names are checked with dissectors.filexfer.filename_problem (no traversal, absolute paths,
separators, NUL, drive prefixes, empty/"."/"..", over 255 bytes).  Content goes into a temp
file in the same directory and is linked into place only when complete and verified;
os.link() fails when the name exists, so an existing file is never overwritten.
"""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile

from dissectors.filexfer import filename_problem

TEMP_PREFIX = ".wirelab-upload-"


class UploadRejected(Exception):
    """The upload cannot be accepted; str() is the reason sent to the client."""


class FileStore:
    def __init__(self, root: str):
        self.root = os.path.realpath(root)
        os.makedirs(self.root, exist_ok=True)

    def path_of(self, name: str) -> str:
        problem = filename_problem(name)
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
        return PendingUpload(self, name, path, size, sha256)

    def open_stored(self, name: str):
        """(file object, size, sha256 hex) of a stored regular file; UploadRejected otherwise."""
        path = self.path_of(name)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
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
    """One upload in progress: write(), then commit() or abort() (always one of them)."""

    def __init__(self, store: FileStore, name: str, path: str, size: int, sha256: str | None):
        self.name, self.path, self.size, self.expected_sha = name, path, size, sha256
        fd, self.temp_path = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=store.root)
        self._f = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.written = 0

    def write(self, data: bytes) -> None:
        if self.written + len(data) > self.size:
            raise UploadRejected("more content than filesize")
        self._f.write(data)
        self._hash.update(data)
        self.written += len(data)

    def commit(self) -> str:
        """Move into place; returns the sha256.  UploadRejected (temp removed) on mismatch."""
        try:
            self._f.close()
            if self.written != self.size:
                raise UploadRejected(f"short upload: {self.written} of {self.size} bytes")
            digest = self._hash.hexdigest()
            if self.expected_sha is not None and digest != self.expected_sha:
                raise UploadRejected("sha256 mismatch")
            try:
                os.link(self.temp_path, self.path)   # fails if the name exists: no overwrite
            except FileExistsError:
                raise UploadRejected(f"{self.name!r} already exists") from None
            return digest
        finally:
            self._remove_temp()

    def abort(self) -> None:
        try:
            self._f.close()
        finally:
            self._remove_temp()

    def _remove_temp(self) -> None:
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass
