"""The reference servers: one per protocol, encoding with the same codecs the analyzer decodes.

    from analyzer.lab.servers import start_server
    with start_server("lenmsg", port=0, idle_timeout=2) as srv:
        host, port = srv.address
        ...

TCP servers are socketserver.ThreadingTCPServer subclasses (as the lecture does) with:
  * a per-connection read timeout `idle_timeout` (counted from accept for the first read, so
    connections queued behind busy threads still expire on time);
  * at most `max_threads` handler threads (daemon); further accepted connections wait in a
    bounded queue (`max_pending`) and are picked up by the next free thread;
  * clean stop (ServerHandle.stop() or Ctrl-C in the CLI): no traceback.
UDP (udpecho) runs on a socketserver.UDPServer.
Every server logs one line per connection/event through `log` (a callable; None = silent).
"""
from __future__ import annotations

import collections
import os
import socket
import socketserver
import struct
import threading
import time
from typing import Callable

from analyzer.appio import AppIOWriter
from analyzer.lab.filestore import FileStore, UploadRejected
from analyzer.lab.netio import AppSocket, addr_text, family_of
from analyzer.lab.reports import report_text
from dissectors import auth, bigreply, chat, filexfer, lenmsg, udpecho
from dissectors.base import MAX_FRAME, SERVER, RemoteProtocolError

DEFAULT_IDLE_TIMEOUT = 30.0
DEFAULT_MAX_THREADS = 64
DEFAULT_MAX_PENDING = 4096
READ_SIZE = 65536
MAX_UDP_PEERS = 65536      # udpecho remembers sidecar offsets for at most this many peers

Log = Callable[[str], None]


def _quiet(_line: str) -> None:
    pass


class LabTCPServer(socketserver.ThreadingTCPServer):
    """ThreadingTCPServer with a bounded thread count, a waiting queue and idle timeouts."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address, handler_cls, *, protocol: str, idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
                 max_threads: int = DEFAULT_MAX_THREADS, max_pending: int = DEFAULT_MAX_PENDING,
                 log: Log | None = None, appio: AppIOWriter | None = None, options: dict | None = None):
        self.address_family = family_of(address[0])
        self.protocol = protocol
        self.idle_timeout = float(idle_timeout)
        self.max_threads = max(1, int(max_threads))
        self.max_pending = max(0, int(max_pending))
        self.log = log or _quiet
        self.verbose = log is not None     # per-message lines are only formatted when logged
        self.appio = appio
        self.options = options or {}
        self._lock = threading.Lock()
        self._pending: collections.deque = collections.deque()
        self._open: dict[socket.socket, float] = {}   # connection -> accept time (monotonic)
        self._greetings: dict = {}                    # connection -> what greet() returned
        self.active_threads = 0
        self.peak_threads = 0
        self.connections = 0      # accepted so far
        self.dropped = 0          # closed at once because the waiting queue was full
        super().__init__(address, handler_cls)

    # --- accept side ------------------------------------------------------------------
    def process_request(self, request, client_address):
        now = time.monotonic()
        greet = getattr(self.RequestHandlerClass, "greet", None)
        if greet is not None:          # server speaks first: at accept, not when a thread is free
            try:
                self._greetings[request] = greet(self, request)
            except OSError:
                self.shutdown_request(request)
                return
        with self._lock:
            self.connections += 1
            self._open[request] = now
            if self.active_threads < self.max_threads:
                self.active_threads += 1
                self.peak_threads = max(self.peak_threads, self.active_threads)
                t = threading.Thread(target=self._worker, args=(request, client_address),
                                     name=f"wirelab-{self.protocol}", daemon=True)
                try:
                    t.start()
                    return
                except RuntimeError:          # the OS refused another thread
                    self.active_threads -= 1
                    self.dropped += 1
                    del self._open[request]
            elif len(self._pending) < self.max_pending:
                self._pending.append((request, client_address))
                return
            else:
                self.dropped += 1
                del self._open[request]
        self._greetings.pop(request, None)
        self.log(f"{addr_text(client_address)} refused: {self.max_threads} threads busy and "
                 f"{self.max_pending} connections waiting")
        self.shutdown_request(request)

    def _worker(self, request, client_address):
        item = (request, client_address)
        while item is not None:
            self._serve_one(*item)
            with self._lock:
                if self._pending:
                    item = self._pending.popleft()
                else:
                    item = None
                    self.active_threads -= 1

    def _serve_one(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception as exc:  # noqa: BLE001 - a handler bug must not kill the worker
            self.log(f"{addr_text(client_address)} handler error: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._open.pop(request, None)
                self._greetings.pop(request, None)
            self.shutdown_request(request)

    def first_read_budget(self, request) -> float:
        """Seconds left of the idle timeout for the first read (counted from accept)."""
        with self._lock:
            accepted = self._open.get(request, time.monotonic())
        return max(0.01, self.idle_timeout - (time.monotonic() - accepted))

    def handle_error(self, request, client_address):  # pragma: no cover - no tracebacks
        self.log(f"{addr_text(client_address)} error")

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Wait (bounded) until no handler thread runs, e.g. so uploads remove their temp files."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.active_threads == 0:
                    return True
            time.sleep(0.01)
        return False

    def close_connections(self) -> None:
        """Stop: wake every handler (shutdown its socket) and drop the waiting ones."""
        with self._lock:
            socks = list(self._open)
            pending = list(self._pending)
            self._pending.clear()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for s, _ in pending:
            self._greetings.pop(s, None)
            self.shutdown_request(s)


class LabHandler(socketserver.BaseRequestHandler):
    """Common part of the TCP handlers: AppSocket, timeouts, one log line per event."""

    server: LabTCPServer

    def setup(self) -> None:
        self.peer = addr_text(self.client_address)
        self.greeting = self.server._greetings.get(self.request)
        self.conn = self.greeting[0] if self.greeting else AppSocket(self.request, "server", self.server.appio)
        self.opts = self.server.options
        self._first = True
        self._timeout_set = False

    def log(self, text: str) -> None:
        self.server.log(f"{self.peer} {text}")

    def _set_kernel_timeouts(self, recv_s: float, send_s: float) -> None:
        """SO_RCVTIMEO/SO_SNDTIMEO on a blocking socket: a timed-out call fails with EAGAIN.
        (Python's settimeout() would add a poll() syscall before every recv and send.)"""
        for opt, secs in ((socket.SO_RCVTIMEO, recv_s), (socket.SO_SNDTIMEO, send_s)):
            secs = max(secs, 0.001)        # 0 would mean "no timeout" to the kernel
            whole = int(secs)
            self.request.setsockopt(socket.SOL_SOCKET, opt,
                                    struct.pack("ll", whole, int((secs - whole) * 1e6)))

    def read(self, n: int = READ_SIZE) -> bytes:
        """One recv() with the idle timeout (first read: what is left since accept)."""
        if self._first:
            self._first = False
            self._set_kernel_timeouts(self.server.first_read_budget(self.request), self.server.idle_timeout)
            self._timeout_set = False
        elif not self._timeout_set:      # a syscall: only when it changes
            self._set_kernel_timeouts(self.server.idle_timeout, self.server.idle_timeout)
            self._timeout_set = True
        return self.conn.recv(n)

    def handle(self) -> None:
        self.log("connected")
        self.request.settimeout(None)
        self._set_kernel_timeouts(self.server.idle_timeout, self.server.idle_timeout)
        try:
            self.serve()
        except (socket.timeout, BlockingIOError):
            self.log(f"idle for {self.server.idle_timeout:g} s: closing")
        except RemoteProtocolError as exc:
            self.log(f"protocol error: {exc}: closing")
        except (ConnectionError, OSError) as exc:
            self.log(f"connection lost: {type(exc).__name__}")

    def serve(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


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


class UDPEchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        srv: LabUDPServer = self.server
        codec = udpecho.Connection(SERVER)
        peer = addr_text(self.client_address)
        srv.log(f"{peer} datagram {len(data)} bytes {chat.preview(data)}")
        reply = codec.send(udpecho.Datagram(data.upper()))
        sock.sendto(reply, self.client_address)
        if srv.appio is not None:
            me = addr_text(sock.getsockname())
            with srv.lock:
                off_in = srv.offsets.get((peer, "c2s"), 0)
                off_out = srv.offsets.get((peer, "s2c"), 0)
                srv.offsets[(peer, "c2s")] = off_in + len(data)
                srv.offsets[(peer, "s2c")] = off_out + len(reply)
                while len(srv.offsets) > MAX_UDP_PEERS * 2:     # bounded memory
                    srv.offsets.pop(next(iter(srv.offsets)))
            for op, d, off, n in (("recv", "c2s", off_in, len(data)), ("send", "s2c", off_out, len(reply))):
                srv.appio.record(client=peer, server=me, side="server", op=op, direction=d, offset=off,
                                 length=n, transport="udp")


class LabUDPServer(socketserver.UDPServer):
    allow_reuse_address = True
    max_packet_size = 65535

    def __init__(self, address, *, log: Log | None = None, appio: AppIOWriter | None = None, **_ignored):
        self.address_family = family_of(address[0])
        self.log = log or _quiet
        self.appio = appio
        self.lock = threading.Lock()
        self.offsets: dict = {}
        self.protocol = "udpecho"
        super().__init__(address, UDPEchoHandler)

    def handle_error(self, request, client_address):  # pragma: no cover
        self.log(f"{addr_text(client_address)} error")

    def close_connections(self) -> None:
        pass

    def wait_idle(self, timeout: float = 2.0) -> bool:
        return True


HANDLERS = {"chat": ChatHandler, "lenmsg": LenmsgHandler, "filexfer": FilexferHandler,
            "auth": AuthHandler, "bigreply": BigreplyHandler}
PROTOCOLS = tuple(HANDLERS) + ("udpecho",)


class ServerHandle:
    """A server running in a background thread.  `.address`, `.stop()`, context manager."""

    def __init__(self, server, protocol: str):
        self.server = server
        self.protocol = protocol
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"wirelab-serve-{protocol}", daemon=True)
        self._stopped = False

    def start(self) -> "ServerHandle":
        self._thread.start()
        return self

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return host, port

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def transport(self) -> str:
        return "udp" if self.protocol == "udpecho" else "tcp"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.server.shutdown()
        self.server.close_connections()
        self.server.server_close()
        self.server.wait_idle(2.0)
        self._thread.join(5)

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def make_server(protocol: str, host: str = "127.0.0.1", port: int = 0, *, log: Log | None = None,
                appio: AppIOWriter | None = None, idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
                max_threads: int = DEFAULT_MAX_THREADS, max_pending: int = DEFAULT_MAX_PENDING,
                **opts):
    """Build (bind + listen) the server for `protocol` without running it.

    opts: chat: first_read_delay, recv_size; lenmsg: variant, max_frame; filexfer: upload_dir,
    variant, max_upload; auth: secret (bytes, required), variant.  OSError if the port is busy.
    """
    if protocol == "udpecho":
        return LabUDPServer((host, port), log=log, appio=appio)
    if protocol not in HANDLERS:
        raise ValueError(f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
    opts = dict(opts)
    if protocol == "filexfer":
        upload_dir = opts.get("upload_dir")
        if not upload_dir:
            import tempfile
            upload_dir = opts["upload_dir"] = tempfile.mkdtemp(prefix="wirelab-uploads-")
        try:
            opts["store"] = FileStore(upload_dir)
        except OSError as exc:
            raise ValueError(f"cannot use upload directory {upload_dir}: {exc.strerror or exc}") from None
    if protocol == "auth":
        secret = opts.get("secret")
        if not secret:
            raise ValueError("the auth server needs a secret (--secret-file or WIRELAB_SECRET)")
        opts["secret"] = secret.encode() if isinstance(secret, str) else bytes(secret)
        variant = opts.get("variant") or auth.DEFAULT_VARIANT
        if variant not in auth.VARIANTS:
            raise ValueError(f"unknown auth variant {variant!r} ({', '.join(auth.VARIANTS)})")
        opts["challenges"] = Challenges()
    if protocol in ("lenmsg", "filexfer") and opts.get("variant") not in (None, "network", "native"):
        raise ValueError(f"unknown variant {opts['variant']!r} (network|native)")
    return LabTCPServer((host, port), HANDLERS[protocol], protocol=protocol, idle_timeout=idle_timeout,
                        max_threads=max_threads, max_pending=max_pending, log=log, appio=appio,
                        options=opts)


def start_server(protocol: str, host: str = "127.0.0.1", port: int = 0, **opts) -> ServerHandle:
    """Start the reference server for `protocol` in a background thread (see make_server)."""
    return ServerHandle(make_server(protocol, host, port, **opts), protocol).start()
