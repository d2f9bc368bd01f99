"""The TCP side of the reference servers.

The lecture's server is `socketserver.ThreadingTCPServer`: serve_forever() accepts, and
ThreadingMixIn.process_request() starts one thread per connection, which then blocks in
recv() for as long as the client keeps the connection open.  A client that sends nothing, or
one byte every few seconds, holds that thread; a few hundred of them hold them all.

LabTCPServer keeps socketserver's accept loop and overrides only process_request(): an
accepted connection goes to ONE selector thread (reactor.py) that waits for readability, and
a worker thread from a bounded pool runs the handler only while data is there.  Every phase
of a connection has a total deadline (limits.py), open connections are capped, and the bytes
of partial messages held by all connections together have a budget.
"""
from __future__ import annotations

import errno
import socket
import socketserver
import struct
import threading
import time
from typing import Callable

from analyzer.sources.sidecar import AppIOWriter
from analyzer.lab.netio import addr_text, family_of
from analyzer.lab.servers.connection import LabConnection, failure_text
from analyzer.lab.servers.limits import Limits
from analyzer.lab.servers.memory import fix_mmap_threshold
from analyzer.lab.servers.reactor import Reactor, WorkerPool

MAX_UDP_PEERS = 65536      # udpecho remembers sidecar offsets for at most this many peers

Log = Callable[[str], None]


def quiet(_line: str) -> None:
    """The log of a silent server."""


class LabTCPServer(socketserver.ThreadingTCPServer):
    """socketserver's accept loop; connections served by a selector + bounded worker pool."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address, handler_cls, *, protocol: str, limits: Limits | None = None,
                 log: Log | None = None, appio: AppIOWriter | None = None, options: dict | None = None):
        self.address_family = family_of(address[0])
        self.protocol = protocol
        self.limits = limits or Limits()
        self.log = log or quiet
        self.verbose = log is not None     # per-message lines are only formatted when logged
        self.appio = appio
        self.options = options or {}
        self._lock = threading.Lock()
        self._conns: set[LabConnection] = set()
        self.buffered = 0                  # partial-message bytes held by all connections
        self.counts = {"connections": 0, "refused": 0, "timed_out": 0, "over_budget": 0}
        self._fd_warned = 0.0
        super().__init__(address, handler_cls)
        fix_mmap_threshold()               # memory of ended connections goes back (memory.py)
        self.pool = WorkerPool(self.limits.max_threads, self._work, f"wirelab-{protocol}")
        self.reactor = Reactor(self.pool, self._expired, f"wirelab-{protocol}-selector")

    # --- accept side (runs in serve_forever's thread) -------------------------------------
    def get_request(self):
        try:
            return super().get_request()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                now = time.monotonic()
                if now - self._fd_warned > 5:
                    self._fd_warned = now
                    self.log(f"out of file descriptors ({len(self._conns)} connections open): "
                             "new connections wait in the kernel's queue")
                time.sleep(0.05)       # the listening socket stays readable: do not spin
            raise

    def process_request(self, request, client_address):
        """ThreadingMixIn would start a thread here; the connection goes to the selector."""
        with self._lock:
            self.counts["connections"] += 1
            full = len(self._conns) >= self.limits.max_connections
            if full:
                self.counts["refused"] += 1
        if full:
            self.log(f"{addr_text(client_address)} refused: {self.limits.max_connections} "
                     "connections open (--max-connections)")
            self.shutdown_request(request)
            return
        try:
            request.settimeout(None)
            _set_send_timeout(request, self.limits.message_timeout)
            conn = LabConnection(self, request, client_address, self.RequestHandlerClass, time.monotonic())
            conn.handler.greet()        # auth: the challenge goes out at accept
        except OSError as exc:
            self.log(f"{addr_text(client_address)} {failure_text(exc, self.limits.message_timeout)}")
            self.shutdown_request(request)
            return
        with self._lock:
            self._conns.add(conn)
        if self.verbose:
            conn.log("connected")
        self.reactor.watch(conn)

    def handle_error(self, request, client_address):  # pragma: no cover - no tracebacks
        self.log(f"{addr_text(client_address)} error")

    # --- the connections ----------------------------------------------------------------
    def _work(self, conn: LabConnection) -> None:
        if conn.work():
            self.reactor.watch(conn)

    def _expired(self, conn: LabConnection, now: float) -> None:
        self.count("timed_out")             # counted before the socket closes
        conn.close(conn.expired_text(now))

    def count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def buffered_add(self, delta: int) -> bool:
        """Add to the bytes of partial messages held; True when over the budget."""
        with self._lock:
            self.buffered += delta
            return self.buffered > self.limits.buffer_budget

    def forget(self, conn: LabConnection) -> None:
        """A connection ended: close its socket."""
        with self._lock:
            self._conns.discard(conn)
        self.shutdown_request(conn.sock)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._conns)

    @property
    def connections(self) -> int:
        return self.counts["connections"]

    @property
    def active_threads(self) -> int:
        return self.pool.busy

    @property
    def peak_threads(self) -> int:
        return self.pool.peak_busy

    def counts_text(self) -> str:
        c = self.counts
        return (f"{c['connections']} connections, {c['refused']} refused, {c['timed_out']} timed out, "
                f"{c['over_budget']} closed over the buffer budget")

    # --- stop ---------------------------------------------------------------------------
    def close_connections(self) -> None:
        """Stop: close the waiting connections, wake the ones a worker holds."""
        self.reactor.stop()
        with self._lock:
            busy = list(self._conns)
        for conn in busy:
            conn.wake()

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Wait (bounded) until every connection is closed (uploads removed their temp files),
        then let the worker threads end."""
        deadline = time.monotonic() + timeout
        done = False
        while time.monotonic() < deadline and not done:
            done = self.open_connections == 0
            if not done:
                time.sleep(0.01)
        self.pool.stop()
        return done


def _set_send_timeout(sock: socket.socket, secs: float) -> None:
    """SO_SNDTIMEO on a blocking socket: a send the client does not drain fails with EAGAIN
    after `secs` (Python's settimeout() would add a poll() before every recv and send)."""
    secs = max(secs, 0.001)            # 0 would mean "no timeout" to the kernel
    whole = int(secs)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", whole, int((secs - whole) * 1e6)))
