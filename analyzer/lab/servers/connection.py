"""One accepted TCP connection of a reference server: its socket, its handler, the clock of
its current phase (see limits.py) and the partial-message bytes it holds.

The handler's `serve()` is a generator that asks for the next bytes with `data = yield`.
A worker thread runs `work()` only while the socket has data, so a silent or trickling
connection costs a socket and a few objects, never a thread.
"""
from __future__ import annotations

import errno
import select
import socket
import time

from analyzer.lab.netio import AppSocket, addr_text
from dissectors.base import RemoteProtocolError

READ_SIZE = 65536
READS_PER_TURN = 16        # then the connection goes back to the selector (fairness)
LINGER = 0.001             # seconds a worker waits for a connection's next request
_RESET_ERRNOS = (errno.ECONNRESET, errno.ENOTCONN, errno.ECONNABORTED)


def failure_text(exc: BaseException, send_timeout: float) -> str:
    """The log line for what ended a connection (no OSError numbers)."""
    if isinstance(exc, ConnectionResetError) or (isinstance(exc, OSError) and exc.errno in _RESET_ERRNOS):
        return "client reset the connection"
    if isinstance(exc, (BlockingIOError, socket.timeout)):
        return f"client did not read the reply for {send_timeout:g} s: closing"
    if isinstance(exc, BrokenPipeError):
        return "connection lost: the client closed before reading the reply"
    if isinstance(exc, OSError):
        return f"connection lost: {exc.strerror or type(exc).__name__}"
    return f"handler error: {type(exc).__name__}: {exc}"     # a bug: logged, never a traceback


class LabConnection:
    def __init__(self, server, sock: socket.socket, address, handler_cls, now: float):
        self.server = server
        self.sock = sock
        self.peer = addr_text(address)
        self.app = AppSocket(sock, "server", server.appio)    # OSError when already reset
        self.handler = handler_cls(self)
        self.gen = None
        self.boundary = now                                   # end of the last message (or accept)
        self.message_start: float | None = now if handler_cls.speaks_first else None
        self.message_bytes = 0        # received since message_start
        self.unconsumed = 0           # received, not yet turned into events: buffered by a codec
        self.closed = False

    def log(self, text: str) -> None:
        self.server.log(f"{self.peer} {text}")

    # --- the clock --------------------------------------------------------------------
    def deadline(self) -> float:
        limits = self.server.limits
        if self.message_start is None:
            return self.boundary + limits.idle_timeout
        return self.message_start + limits.message_timeout + self.message_bytes / limits.min_rate

    def expired_text(self, now: float) -> str:
        limits = self.server.limits
        if self.message_start is None:
            return f"idle for {limits.idle_timeout:g} s: closing"
        return (f"{self.handler.message_name} not complete after {now - self.message_start:.1f} s "
                f"({self.message_bytes} bytes; allowed {limits.message_timeout:g} s + 1 s per "
                f"{limits.min_rate:g} bytes): closing")

    def consumed(self, nbytes: int, message_ends: bool) -> None:
        """The handler turned `nbytes` received bytes into events (a message ended or not)."""
        self.unconsumed -= nbytes
        if message_ends:
            now = time.monotonic()
            self.boundary = now
            self.message_start = now if self.unconsumed > 0 else None
            self.message_bytes = self.unconsumed

    # --- the work ---------------------------------------------------------------------
    def work(self) -> bool:
        """Feed what the socket holds to the handler.  False when the connection is closed."""
        try:
            if self.gen is None:
                self.gen = self.handler.serve()
                next(self.gen)
            for _ in range(READS_PER_TURN):
                try:
                    data = self.app.recv(self.handler.read_size, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    if not self._next_request_soon():
                        return True
                    continue
                if not self._feed(data):
                    return False
            return True
        except StopIteration:
            self.close()
        except RemoteProtocolError as exc:
            # the codec keeps its error, whose traceback holds the handler's frame (and the
            # codec's buffer): a cycle only the garbage collector would free, so cut it now
            exc.__traceback__ = None
            self.close(f"protocol error: {self.handler.error_text(exc)}: closing")
        except Exception as exc:  # noqa: BLE001 - network trouble or a handler bug: one line
            exc.__traceback__ = None
            self.close(failure_text(exc, self.server.limits.message_timeout))
        return False

    def _next_request_soon(self) -> bool:
        """Wait LINGER s for more bytes: a request/reply client's next request usually comes
        within it, and skips the trip through the selector thread (at most READS_PER_TURN
        waits per turn, so a trickler costs a worker at most that long per byte)."""
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        return bool(poller.poll(LINGER * 1000))

    def _feed(self, data: bytes) -> bool:
        if data and self.message_start is None:
            self.message_start = time.monotonic()
        self.message_bytes += len(data)
        before = self.unconsumed
        self.unconsumed += len(data)
        self.gen.send(data)                       # StopIteration when the handler is done
        grown = self.unconsumed - before
        over_budget = self.server.buffered_add(grown) if grown else False
        if over_budget and grown > 0:
            self.server.count("over_budget")
            self.close(f"server buffer budget full ({self.server.limits.buffer_budget} bytes of "
                       f"partial messages held by all connections): closing this one, which held "
                       f"{self.unconsumed} bytes")
            return False
        if not data:                              # handler ignored the end of stream
            self.close()
            return False
        return True

    def close(self, line: str | None = None) -> None:
        """Close once: the handler's cleanup runs (temp files removed), buffers are released."""
        if self.closed:
            return
        self.closed = True
        if line:
            self.log(line)
        gen, self.gen, self.handler = self.gen, None, None
        if gen is not None:
            try:
                gen.close()
            except Exception as exc:  # noqa: BLE001 - cleanup trouble: one line
                self.log(f"cleanup error: {type(exc).__name__}: {exc}")
        if self.unconsumed:
            self.server.buffered_add(-self.unconsumed)
            self.unconsumed = 0
        self.server.forget(self)

    def wake(self) -> None:
        """Stop: make a worker blocked on this socket return (its handler then cleans up)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
