"""The request handlers of the TCP reference servers, one per protocol, encoding with the
same codecs the analyzer decodes with."""
from __future__ import annotations

import collections
import os
import threading
import time

from analyzer.lab.filestore import FileStore, UploadRejected
from analyzer.lab.netio import AppSocket
from analyzer.lab.reports import report_text
from dissectors import auth, bigreply, chat, filexfer, lenmsg
from dissectors.base import MAX_FRAME, SERVER, RemoteProtocolError
from analyzer.lab.servers.tcp_server import LabHandler, LabTCPServer, READ_SIZE

class ChatHandler(LabHandler):
    """Upper-cases every chunk it reads.  Options: first_read_delay, recv_size."""

    def serve(self) -> None:
        codec = chat.Connection(SERVER)
        delay = float(self.opts.get("first_read_delay") or 0)
        if delay:
            time.sleep(delay)
        size = int(self.opts.get("recv_size") or READ_SIZE)
        while True:
            data = self.read(size)
            if not data:
                self.log("closed by client")
                return
            self.log(f"read {len(data)} bytes {chat.preview(data)}")
            self.conn.send_all(codec.send(chat.Text(data.upper())))


class LenmsgHandler(LabHandler):
    """Echoes each message upper-cased, framed the same way.  Options: variant, max_frame."""

    def serve(self) -> None:
        codec = lenmsg.Connection(SERVER, variant=self.opts.get("variant"),
                                  max_frame=int(self.opts.get("max_frame") or MAX_FRAME))
        count = 0
        while True:
            data = self.read()
            for frame in codec.receive_data(data):
                count += 1
                if self.server.verbose:
                    self.log(f"message {frame.summary()}")
                self.conn.send_all(codec.send(lenmsg.Frame(frame.payload.upper())))
            if not data:
                self.log(f"closed by client after {count} messages")
                return


class FilexferHandler(LabHandler):
    """Stores uploads under upload_dir; serves downloads.  Options: upload_dir, variant,
    max_upload (bytes, default 4 GiB)."""

    def serve(self) -> None:
        store: FileStore = self.opts["store"]
        max_upload = int(self.opts.get("max_upload") or (4 << 30))
        codec = filexfer.Connection(SERVER, variant=self.opts.get("variant"))
        pending = None          # PendingUpload in progress
        discarding = False      # content of a rejected upload is read and dropped
        try:
            while True:
                data = self.read()
                try:
                    events = codec.receive_data(data)
                except RemoteProtocolError as exc:
                    self._status(codec, ok=False, error=f"protocol error: {exc}")
                    raise
                for ev in events:
                    if isinstance(ev, filexfer.Header):
                        if ev.op == "get":
                            self._download(codec, store, ev.filename)
                            continue
                        try:
                            if ev.filesize > max_upload:
                                raise UploadRejected(f"file larger than {max_upload} bytes")
                            pending = store.begin(ev.filename, ev.filesize, ev.sha256)
                            discarding = False
                        except UploadRejected as exc:
                            self.log(f"upload {ev.filename[:80]!r} rejected: {exc}")
                            self._status(codec, ok=False, error=str(exc))
                            discarding = ev.filesize > 0
                            continue
                        self.log(f"upload {ev.filename!r} ({ev.filesize} bytes) started")
                        if ev.end_of_message:
                            pending = self._finish(codec, pending)
                    elif isinstance(ev, filexfer.Content):
                        if discarding:
                            discarding = not ev.end_of_message
                            continue
                        pending.write(ev.data)
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

    def _status(self, codec, **obj) -> None:
        try:
            self.conn.send_all(codec.send(filexfer.Status.make(**obj)))
        except OSError:
            pass

    def _finish(self, codec, pending):
        try:
            digest = pending.commit()
        except UploadRejected as exc:
            self.log(f"upload {pending.name!r} rejected: {exc}")
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
            self.conn.send_all(codec.send(filexfer.Status.make(ok=True, filename=name, size=size,
                                                               sha256=digest)))
            left = size
            while left > 0:
                chunk = f.read(min(READ_SIZE, left))
                if not chunk:   # file shrank under us: the client will see a short reply
                    raise ConnectionAbortedError("stored file shrank")
                left -= len(chunk)
                self.conn.send_all(codec.send(filexfer.Content(chunk, left == 0)))


class AuthHandler(LabHandler):
    """Challenge, answer, then chat (good answer) or close (bad).  Options: secret, variant.

    The challenge is sent by greet() as soon as the connection is accepted, so a client whose
    connection waits for a free thread already has it, and the answer's read timeout counts
    from accept like every first read (idle auth connections cannot hold the threads)."""

    @staticmethod
    def greet(server: LabTCPServer, request) -> tuple[AppSocket, bytes]:
        conn = AppSocket(request, "server", server.appio)
        challenge = server.options["challenges"].new()
        request.settimeout(1.0)       # 32 bytes into a fresh socket's empty send buffer
        conn.send_all(auth.Connection(SERVER).send(auth.Challenge(challenge)))
        request.settimeout(None)
        return conn, challenge

    def serve(self) -> None:
        secret: bytes = self.opts["secret"]
        variant = self.opts.get("variant") or auth.DEFAULT_VARIANT
        codec = auth.Connection(SERVER, variant=variant)
        challenge = self.greeting[1]          # sent at accept time by greet()
        codec.send(auth.Challenge(challenge))  # (advance the codec's state past it)
        size = auth.ANSWER_SIZE[variant]
        buf = b""
        while len(buf) < size:                 # the answer may arrive in several pieces
            data = self.read(READ_SIZE)
            if not data:
                self.log("closed before answering")
                return
            buf += data
        answer, rest = buf[:size], buf[size:]
        if not auth.verify(secret, challenge, answer, variant):
            self.log(f"bad {variant} answer: closing")
            return
        self.log(f"authenticated ({variant})")
        while True:
            if rest:
                self.log(f"read {len(rest)} bytes {chat.preview(rest)}")
                self.conn.send_all(codec.send(auth.Text(rest.upper())))
            rest = self.read(READ_SIZE)
            if not rest:
                self.log("closed by client")
                return


class BigreplyHandler(LabHandler):
    """Answers `GET <name>` with `REPORT <name> <n>` + n bytes, or `ERROR <reason>`."""

    def serve(self) -> None:
        codec = bigreply.Connection(SERVER)
        while True:
            data = self.read()
            try:
                events = codec.receive_data(data)
            except RemoteProtocolError:
                self.conn.send_all(b"ERROR bad request\n")
                raise
            for ev in events:
                text = report_text(ev.name)
                if text is None:
                    self.log(f"GET {ev.name}: no such report")
                    self.conn.send_all(codec.send(bigreply.Error(f"no such report {ev.name}")))
                    continue
                self.log(f"GET {ev.name}: {len(text)} bytes")
                self.conn.send_all(codec.send(bigreply.ReportHeader(ev.name, len(text))))
                self.conn.send_all(codec.send(bigreply.Body(text, True)))
            if not data:
                self.log("closed by client")
                return


class Challenges:
    """Fresh 32-byte challenges, each used once (a bounded memory of recent ones)."""

    def __init__(self, remember: int = 100_000):
        self._seen: collections.OrderedDict = collections.OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()

    def new(self) -> bytes:
        with self._lock:
            while True:
                c = os.urandom(auth.CHALLENGE_SIZE)
                if c not in self._seen:
                    self._seen[c] = None
                    if len(self._seen) > self._remember:
                        self._seen.popitem(last=False)
                    return c


