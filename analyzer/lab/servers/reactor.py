"""Idle connections wait in ONE selector thread; readable ones go to a bounded worker pool.

A connection is owned by exactly one thread at a time: the selector thread while it waits
(registered, its deadline checked every SWEEP seconds), a worker while its data is processed.
Workers hand a connection back with `watch()`; the selector thread then registers it again.
"""
from __future__ import annotations

import collections
import queue
import selectors
import socket
import threading
import time
from typing import Callable

SWEEP = 0.1       # seconds between deadline checks


class WorkerPool:
    """At most `max_threads` daemon threads, started when work waits and none is free."""

    def __init__(self, max_threads: int, work: Callable, name: str):
        self.max_threads = max_threads
        self._work = work
        self._name = name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.threads = 0
        self.idle = 0
        self.waiting = 0
        self.busy = 0
        self.peak_busy = 0

    def submit(self, job) -> None:
        with self._lock:
            self.waiting += 1
            if self.waiting > self.idle and self.threads < self.max_threads:
                self.threads += 1
                threading.Thread(target=self._run, name=self._name, daemon=True).start()
        self._queue.put(job)

    def _run(self) -> None:
        while True:
            with self._lock:
                self.idle += 1
            job = self._queue.get()
            with self._lock:
                self.idle -= 1
                self.waiting -= 1
                if job is None:
                    self.threads -= 1
                    return
                self.busy += 1
                self.peak_busy = max(self.peak_busy, self.busy)
            try:
                self._work(job)
            finally:
                with self._lock:
                    self.busy -= 1

    def stop(self) -> None:
        """Let every thread end after its current job."""
        with self._lock:
            n = self.threads
            self.waiting += n
        for _ in range(n):
            self._queue.put(None)


class Reactor:
    """The selector thread.  on_ready(conn) runs in a worker; on_expired(conn, now) in here."""

    def __init__(self, pool: WorkerPool, on_expired: Callable, name: str):
        self._pool = pool
        self._on_expired = on_expired
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        for s in (self._wake_r, self._wake_w):
            s.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._incoming: collections.deque = collections.deque()
        self._watched: set = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def watch(self, conn) -> None:
        """Wait for `conn` to become readable (any thread).  Closed at once when stopping."""
        with self._lock:
            if not self._stopped:
                self._incoming.append(conn)
                self._wake()
                return
        conn.close()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except BlockingIOError:          # already full of wake-ups: it will wake
            pass

    def stop(self) -> None:
        """Close every waiting connection (their handlers clean up) and end the thread."""
        with self._lock:
            self._stopped = True
            self._wake()
        self._thread.join(5)

    def _run(self) -> None:
        next_sweep = time.monotonic() + SWEEP
        try:
            while True:
                events = self._sel.select(SWEEP)
                now = time.monotonic()
                for key, _ in events:
                    if key.data is None:
                        self._drain_wake()
                        continue
                    self._sel.unregister(key.fileobj)
                    self._watched.discard(key.data)
                    if key.data.deadline() <= now:       # late: no more work for it
                        self._on_expired(key.data, now)
                    else:
                        self._pool.submit(key.data)
                with self._lock:
                    stopped = self._stopped
                    incoming, self._incoming = self._incoming, collections.deque()
                for conn in incoming:
                    self._register(conn, now)
                if stopped:
                    return
                if now >= next_sweep:
                    next_sweep = now + SWEEP
                    self._sweep(now)
        finally:
            self._close_all()

    def _register(self, conn, now: float) -> None:
        if conn.closed:
            return
        if conn.deadline() <= now and not self._stopped:
            self._on_expired(conn, now)
            return
        try:
            self._sel.register(conn.sock, selectors.EVENT_READ, conn)
        except (ValueError, OSError):          # socket closed meanwhile
            conn.close()
            return
        self._watched.add(conn)

    def _sweep(self, now: float) -> None:
        for conn in [c for c in self._watched if c.deadline() <= now]:
            self._sel.unregister(conn.sock)
            self._watched.discard(conn)
            self._on_expired(conn, now)

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass

    def _close_all(self) -> None:
        for conn in list(self._watched):
            try:
                self._sel.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
            conn.close()
        self._watched.clear()
        self._sel.close()
        self._wake_r.close()
        self._wake_w.close()

    @property
    def watched(self) -> int:
        return len(self._watched)
