"""The TUI's handle on one analysis: the engine, a lock, and the code that feeds it.

A worker thread feeds Records in batches while the UI thread reads rows; every engine call
from the UI goes through `Session` so the two never interleave inside the engine.
"""
from __future__ import annotations

import gc
import os
import time
from typing import Callable, Iterable

from analyzer.engine.auth_check import checker_for
from analyzer.errors import WirelabError
from analyzer.render.packet_json import packet_json
from analyzer.render.rows import row
from analyzer.sources.record import Record

__all__ = ["Session", "open_file", "live_session"]


def open_file(path: str, decode_as: dict | None = None) -> tuple["Session", object]:
    """A Session over a fresh engine for capture `path` and the record source to feed it.

    Raises analyzer.errors.WirelabError (CaptureFormatError) for a file that is not a capture.
    """
    from analyzer.engine import new_engine_for, open_source
    src = open_source(path)
    engine = new_engine_for(path, src, decode_as)
    session = Session(engine, path)
    session.source = src
    from analyzer.tui.quick_index import QuickIndex
    # a source whose header scan only reads (classic pcap) is shared with the engine;
    # otherwise the scan gets a source of its own, since it iterates
    shared = src.scan_reads_only
    session.quick = QuickIndex(src if shared else open_source(path), iterate=not shared)
    return session, src


def live_session(decode_as: dict | None = None) -> "Session":
    """A Session over an engine that keeps frames in memory (live capture)."""
    from analyzer.engine import Engine
    return Session(Engine(decode_as=decode_as), None, live=True)


class Session:
    """Engine + lock + loading state.  Reads are safe from the UI thread at any time."""

    def __init__(self, engine, path: str | None = None, live: bool = False):
        self.engine = engine
        self.path = path
        self.live = live
        self.lock = engine.lock
        self.source = None                  # the record source being fed (file sessions)
        self.quick = None                   # QuickIndex: every packet's position, ahead of the engine
        self.done = False                   # no more packets will come
        self.error: str | None = None       # why loading stopped early
        self.size = os.path.getsize(path) if path and os.path.exists(path) else 0
        self.position = 0                   # file offset reached (progress)
        self.started = time.monotonic()
        self.generation = 0                 # bumps each time packets are added
        self.hold_feed = False              # True: the feeding worker waits (quick scan running)
        self.ui_busy_until = 0.0            # the feeder yields to the UI until this time
        self.secret: bytes | None = None    # the auth protocol's shared secret, if given

    def touch(self, seconds: float = 0.3) -> None:
        """The user is interacting: let the feeding worker wait a moment (UI first)."""
        self.ui_busy_until = time.monotonic() + seconds

    def feeding_held(self) -> bool:
        return self.hold_feed or time.monotonic() < self.ui_busy_until

    # -- reads (UI thread) --------------------------------------------------------------
    @property
    def count(self) -> int:
        with self.lock:
            return self.engine.packet_count

    @property
    def total(self) -> int:
        """Packets known: analyzed by the engine, or at least located by the quick index."""
        q = self.quick
        n = self.count
        return max(n, q.count) if q is not None else n

    def engine_for(self, n: int):
        """The engine when it has analyzed packet n, else the quick index (headers only)."""
        eng = self.engine
        if n <= eng.packet_count or self.quick is None or n > self.quick.count:
            return eng
        return self.quick

    def pending(self, n: int) -> bool:
        return self.engine_for(n) is not self.engine

    @property
    def progress(self) -> float:
        if self.done:
            return 1.0
        src = self.source
        if src is not None and src.size:
            return min(1.0, src.progress / src.size)
        if not self.size:
            return 0.0
        return min(1.0, self.position / self.size)

    @property
    def auth(self):
        """The auth checker of this engine and secret (verdicts on challenge-responses)."""
        return checker_for(self.engine, self.secret)

    def row(self, n: int):
        """The packet-list row of packet n (drawn from its headers until analysed)."""
        with self.lock:
            src = self.engine_for(n)
            return row(src, n, auth=self.auth) if src is self.engine else src.row(n)

    def packet_json(self, n: int) -> dict:
        """The packet JSON of packet n ({} until the engine has analysed it)."""
        with self.lock:
            src = self.engine_for(n)
            return packet_json(src, n) if src is self.engine else {}

    def save_pcap(self, path: str) -> int:
        """Write every packet the engine holds so far to a classic pcap; returns how many."""
        from analyzer.sources.pcapwriter import PcapWriter
        with self.lock:
            eng = self.engine
            count = eng.packet_count
            linktype = eng.index.linktype[0] if count else 1
            with PcapWriter(path, linktype=linktype, flush_interval=None) as w:
                for n in range(1, count + 1):
                    w.write(eng.index.ts[n - 1], eng.frame_bytes(n), eng.index.origlen[n - 1])
        return count

    def conversations(self) -> list:
        with self.lock:
            return list(self.engine.conversations)

    # -- feeding (worker thread) --------------------------------------------------------
    def feed(self, records: Iterable[Record], *, batch: int = 2000,
             on_batch: Callable[[], None] | None = None,
             cancelled: Callable[[], bool] = lambda: False,
             paused: Callable[[], bool] = lambda: False,
             finish: bool = True) -> None:
        """Feed `records` into the engine in locked batches; call `on_batch` after each."""
        eng = self.engine
        it = iter(records)
        try:
            while not cancelled():
                if paused():
                    time.sleep(0.05)
                    continue
                chunk = []
                for rec in it:
                    chunk.append(rec)
                    if len(chunk) >= batch:
                        break
                if not chunk:
                    break
                with self.lock:
                    eng.feed_many(chunk)
                    self.generation += 1
                if chunk[-1].offset >= 0:
                    self.position = chunk[-1].offset
                if on_batch:
                    on_batch()
                # let the UI thread take the lock (locks are not fair: without this pause
                # the feeder re-acquires it at once and a keypress waits many batches)
                time.sleep(0.0005)
            else:
                return
        except WirelabError as exc:
            self.error = str(exc)
        except Exception as exc:  # a bug below us must not kill the UI
            self.error = f"loading stopped: {type(exc).__name__}: {exc}"
        if finish:
            with self.lock:
                if self.source is not None:
                    eng.warnings.extend(self.source.warnings)
                try:
                    eng.finish()
                except Exception as exc:  # pragma: no cover - defensive
                    self.error = self.error or f"finish failed: {exc}"
                q = self.quick
                if q is not None and q.done and eng.packet_count >= q.count:
                    self.quick = None       # the engine has every packet the index located
                self.generation += 1
            # what the engine holds lives as long as the session: out of the cyclic
            # collector's sight, so the UI's collections do not rescan it
            gc.freeze()
            self.done = True
        if on_batch:
            on_batch()
