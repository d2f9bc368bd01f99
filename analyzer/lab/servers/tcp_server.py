"""The TCP side of the reference servers: a ThreadingTCPServer (as the lecture writes it)
with idle timeouts, bounded threads and a clean stop, and the base class of the handlers."""
from __future__ import annotations

import collections
import socket
import socketserver
import struct
import threading
import time
from typing import Callable

from analyzer.sources.sidecar import AppIOWriter
from analyzer.lab.netio import AppSocket, addr_text, family_of
from dissectors.base import RemoteProtocolError
DEFAULT_IDLE_TIMEOUT = 30.0
DEFAULT_MAX_THREADS = 64
DEFAULT_MAX_PENDING = 4096
READ_SIZE = 65536
MAX_UDP_PEERS = 65536      # udpecho remembers sidecar offsets for at most this many peers

Log = Callable[[str], None]


def quiet(_line: str) -> None:
    """The log of a silent server."""


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
        self.log = log or quiet
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


