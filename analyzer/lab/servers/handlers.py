"""The request handlers of the TCP reference servers, one per protocol, encoding with the
same codecs the analyzer decodes with.

A handler's serve() reads like the lecture's blocking handle() loop, except that it asks for
the next bytes with `data = yield` (b"" = the client closed its side): the worker thread
that runs it is given back while the client is silent (see tcp_server.py).
"""
from __future__ import annotations

import collections
import os
import threading
import time

from analyzer.lab.netio import length_error_text
from analyzer.lab.reports import report_text
from dissectors import auth, bigreply, chat, lenmsg
from dissectors.base import MAX_FRAME, SERVER, RemoteProtocolError
from analyzer.lab.servers.connection import READ_SIZE, LabConnection

BIG_BUFFER = 1 << 20       # a codec that buffered this much is replaced once it is empty again


class LabHandler:
    """Base of the handlers: the connection, the options, one log line per event."""

    speaks_first = False         # the server sends first: the client's answer is due from accept
    message_name = "message"     # what the message deadline is about, for the log

    def __init__(self, conn: LabConnection):
        self.conn = conn
        self.app = conn.app
        self.server = conn.server
        self.opts = conn.server.options
        self.read_size = READ_SIZE

    def log(self, text: str) -> None:
        self.conn.log(text)

    def greet(self) -> None:
        """Runs at accept (before any byte is read)."""

    def decode(self, codec, data: bytes) -> list:
        """codec.receive_data(data), telling the connection what was consumed."""
        events = codec.receive_data(data)
        for ev in events:
            self.conn.consumed(ev.wire_length, ev.end_of_message)
        return events

    def error_text(self, exc: RemoteProtocolError) -> str:
        """A protocol error as logged (lenmsg/filexfer: what a bad length looks like)."""
        return str(exc)

    def serve(self):  # pragma: no cover - abstract
        raise NotImplementedError


class ChatHandler(LabHandler):
    """Upper-cases every chunk it reads.  Options: first_read_delay, recv_size."""

    def __init__(self, conn: LabConnection):
        super().__init__(conn)
        self.read_size = int(self.opts.get("recv_size") or READ_SIZE)

    def serve(self):
        codec = chat.Connection(SERVER)
        delay = float(self.opts.get("first_read_delay") or 0)
        if delay:                 # the lab's receiver-side sticky demo: read late, once
            time.sleep(delay)
        while True:
            data = yield
            if not data:
                self.log("closed by client")
                return
            self.conn.consumed(len(data), True)     # no boundaries: every read is answered
            self.log(f"read {len(data)} bytes {chat.preview(data)}")
            self.app.send_all(codec.send(chat.Text(data.upper())))


class LenmsgHandler(LabHandler):
    """Echoes each message upper-cased, framed the same way.  Options: variant, max_frame."""

    message_name = "frame"

    def serve(self):
        count, held = 0, 0
        codec = self._codec()
        while True:
            data = yield
            held = max(held, self.conn.unconsumed)
            for frame in self.decode(codec, data):
                count += 1
                if self.server.verbose:
                    self.log(f"message {frame.summary()}")
                self.app.send_all(codec.send(lenmsg.Frame(frame.payload.upper())))
            if not data:
                self.log(f"closed by client after {count} messages")
                return
            if held >= BIG_BUFFER and self.conn.unconsumed == 0:
                codec, held = self._codec(), 0      # its empty buffer would keep the capacity

    def _codec(self) -> lenmsg.Connection:
        return lenmsg.Connection(SERVER, variant=self.opts.get("variant"),
                                 max_frame=int(self.opts.get("max_frame") or MAX_FRAME))

    def error_text(self, exc: RemoteProtocolError) -> str:
        return length_error_text(str(exc), self.opts.get("variant") or "network",
                                 int(self.opts.get("max_frame") or MAX_FRAME), "lenmsg")


class AuthHandler(LabHandler):
    """Challenge at accept, answer, then chat (good answer) or close (bad).  Options: secret,
    variant.  The answer is due `message_timeout` seconds after accept, however it trickles."""

    speaks_first = True
    message_name = "answer"

    def greet(self) -> None:
        self.challenge = self.opts["challenges"].new()
        self.app.send_all(auth.Connection(SERVER).send(auth.Challenge(self.challenge)))

    def serve(self):
        secret: bytes = self.opts["secret"]
        variant = self.opts.get("variant") or auth.DEFAULT_VARIANT
        codec = auth.Connection(SERVER, variant=variant)
        codec.send(auth.Challenge(self.challenge))   # (advance the codec's state past it)
        size = auth.ANSWER_SIZE[variant]
        buf = b""
        while len(buf) < size:                 # the answer may arrive in several pieces
            data = yield
            if not data:
                self.log("closed before answering")
                return
            buf += data
        answer, rest = buf[:size], buf[size:]
        self.conn.consumed(size, True)
        if not auth.verify(secret, self.challenge, answer, variant):
            self.log(f"bad {variant} answer: closing")
            return
        self.log(f"authenticated ({variant})")
        while True:
            if rest:
                self.conn.consumed(len(rest), True)
                self.log(f"read {len(rest)} bytes {chat.preview(rest)}")
                self.app.send_all(codec.send(auth.Text(rest.upper())))
            rest = yield
            if not rest:
                self.log("closed by client")
                return


class BigreplyHandler(LabHandler):
    """Answers `GET <name>` with `REPORT <name> <n>` + n bytes, or `ERROR <reason>`."""

    message_name = "request line"

    def serve(self):
        codec = bigreply.Connection(SERVER)
        while True:
            data = yield
            try:
                events = self.decode(codec, data)
            except RemoteProtocolError:
                self.app.send_all(b"ERROR bad request\n")
                raise
            for ev in events:
                text = report_text(ev.name)
                if text is None:
                    self.log(f"GET {ev.name}: no such report")
                    self.app.send_all(codec.send(bigreply.Error(f"no such report {ev.name}")))
                    continue
                self.log(f"GET {ev.name}: {len(text)} bytes")
                self.app.send_all(codec.send(bigreply.ReportHeader(ev.name, len(text))))
                self.app.send_all(codec.send(bigreply.Body(text, True)))
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
