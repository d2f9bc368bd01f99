"""The filexfer server's handler: uploads into a FileStore (quota, free space, temp files),
downloads out of it.  Every refusal or failure answers the client with a status naming the
cause and is logged by name; a failed upload never leaves a file."""
from __future__ import annotations

from analyzer.lab.filestore import DEFAULT_MAX_UPLOAD, FileStore, UploadRejected
from analyzer.lab.netio import length_error_text
from analyzer.lab.servers.connection import READ_SIZE
from analyzer.lab.servers.handlers import LabHandler
from dissectors import filexfer
from dissectors.base import MAX_HEADER, SERVER, RemoteProtocolError


class FilexferHandler(LabHandler):
    """Stores uploads under upload_dir; serves downloads.  Options: store (FileStore),
    variant, max_upload (bytes)."""

    message_name = "header or upload"

    def serve(self):
        store: FileStore = self.opts["store"]
        max_upload = int(self.opts.get("max_upload") or DEFAULT_MAX_UPLOAD)
        codec = filexfer.Connection(SERVER, variant=self.opts.get("variant"))
        pending = None          # PendingUpload in progress
        discarding = False      # content of a refused or failed upload is read and dropped
        try:
            while True:
                data = yield
                try:
                    events = self.decode(codec, data)
                except RemoteProtocolError as exc:
                    self._status(codec, ok=False, error=f"protocol error: {self.error_text(exc)}")
                    raise
                for ev in events:
                    if isinstance(ev, filexfer.Header):
                        if ev.op == "get":
                            self._download(codec, store, ev.filename)
                            continue
                        pending = self._begin(codec, store, ev, max_upload)
                        discarding = pending is None and ev.filesize > 0
                        if pending is not None and ev.end_of_message:
                            pending = self._finish(codec, pending)
                    elif discarding:
                        discarding = not ev.end_of_message
                    else:
                        try:
                            pending.write(ev.data)
                        except UploadRejected as exc:
                            pending = self._failed(codec, pending, exc)
                            discarding = not ev.end_of_message
                            continue
                        if ev.end_of_message:
                            pending = self._finish(codec, pending)
                if not data:
                    self.log("closed by client")
                    return
        finally:
            if pending is not None:
                pending.abort()
                self.log(f"upload {pending.name!r} incomplete ({pending.written} of {pending.size} "
                         f"bytes): temp file removed")

    def _begin(self, codec, store: FileStore, ev, max_upload: int):
        try:
            if ev.filesize > max_upload:
                raise UploadRejected(f"file too large: {ev.filesize} bytes > --max-upload {max_upload}")
            pending = store.begin(ev.filename, ev.filesize, ev.sha256)
        except UploadRejected as exc:
            self.log(f"upload {ev.filename[:80]!r} refused: {exc}")
            self._status(codec, ok=False, error=str(exc))
            return None
        self.log(f"upload {ev.filename!r} ({ev.filesize} bytes) started")
        return pending

    def _failed(self, codec, pending, exc: UploadRejected) -> None:
        pending.abort()
        self.log(f"upload {pending.name!r} failed: {exc}: temp file removed")
        self._status(codec, ok=False, error=str(exc))
        return None

    def _status(self, codec, **obj) -> None:
        try:
            self.app.send_all(codec.send(filexfer.Status.make(**obj)))
        except OSError:
            pass

    def _finish(self, codec, pending):
        try:
            digest = pending.commit()
        except UploadRejected as exc:
            self.log(f"upload {pending.name!r} failed: {exc}")
            self._status(codec, ok=False, error=str(exc))
            return None
        self.log(f"stored {pending.name!r} ({pending.size} bytes, sha256 {digest[:16]}...)")
        self._status(codec, ok=True, stored=pending.name, size=pending.size, sha256=digest)
        return None

    def _download(self, codec, store: FileStore, name: str) -> None:
        try:
            f, size, digest = store.open_stored(name)
        except UploadRejected as exc:
            self.log(f"download {name[:80]!r} refused: {exc}")
            self._status(codec, ok=False, error=str(exc))
            return
        with f:
            self.log(f"download {name!r} ({size} bytes)")
            self.app.send_all(codec.send(filexfer.Status.make(ok=True, filename=name, size=size,
                                                              sha256=digest)))
            left = size
            while left > 0:
                chunk = f.read(min(READ_SIZE, left))
                if not chunk:   # file shrank under us: the client will see a short reply
                    raise ConnectionAbortedError("stored file shrank")
                left -= len(chunk)
                self.app.send_all(codec.send(filexfer.Content(chunk, left == 0)))

    def error_text(self, exc: RemoteProtocolError) -> str:
        return length_error_text(str(exc), self.opts.get("variant") or "network", MAX_HEADER, "filexfer")
