"""The application I/O sidecar: what every send() and recv() of the lab's programs did.

Unframed protocols (chat) have no message boundaries on the wire, so the lab writes, beside
each capture `X.pcap`, a JSON-lines file `X.pcap.appio.jsonl`.  One object per line:

    {"client": "127.0.0.1:40312", "server": "127.0.0.1:9000", "transport": "tcp",
     "side": "client" | "server",      # which program made the call
     "op": "send" | "recv",
     "dir": "c2s" | "s2c",             # direction of the bytes (client send / server recv: c2s)
     "offset": 0,                      # stream offset of the first byte in that direction
     "length": 5,                      # bytes sent / returned by recv()
     "time": 1764090000.123456}

The sender's `send` records are the application's messages; the receiver's `recv` records are
its reads.  `summary`, `packets` and the TUI load the sidecar automatically when it sits
beside the capture.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass

from analyzer.errors import WirelabError

SUFFIX = ".appio.jsonl"


def sidecar_path(capture_path: str) -> str:
    return capture_path + SUFFIX


@dataclass(frozen=True, slots=True)
class AppIO:
    client: str
    server: str
    transport: str
    side: str
    op: str
    dir: str
    offset: int
    length: int
    time: float


class AppIOWriter:
    """Thread-safe appender used by the lab's servers and clients."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._f = open(path, "a", encoding="utf-8")

    def record(self, *, client: str, server: str, side: str, op: str, direction: str,
               offset: int, length: int, transport: str = "tcp") -> None:
        line = json.dumps({"client": client, "server": server, "transport": transport,
                           "side": side, "op": op, "dir": direction, "offset": offset,
                           "length": length, "time": time.time()})
        with self._lock:
            self._f.write(line + "\n")
            self._f.flush()

    def close(self) -> None:
        with self._lock:
            self._f.close()


def load(path: str) -> list[AppIO] | None:
    """Records of the sidecar at `path`, or None when there is none.  Bad lines are skipped."""
    if not os.path.exists(path):
        return None
    out: list[AppIO] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.lstrip().startswith("{"):
                continue
            try:
                o = json.loads(line)
                out.append(AppIO(str(o["client"]), str(o["server"]), str(o.get("transport", "tcp")),
                                 str(o["side"]), str(o["op"]), str(o["dir"]), int(o["offset"]),
                                 int(o["length"]), float(o["time"])))
            except (ValueError, KeyError, TypeError, RecursionError):
                continue
    return out


def load_beside(capture_path: str) -> list[AppIO] | None:
    return load(sidecar_path(capture_path))


def open_sidecar_writer(path: str | None) -> "AppIOWriter | None":
    """An AppIOWriter appending to `path` (None: no sidecar), or WirelabError in one line."""
    if not path:
        return None
    if os.path.isdir(path):
        raise WirelabError(f"cannot write sidecar {path}: is a directory")
    try:
        return AppIOWriter(path)
    except OSError as exc:
        raise WirelabError(f"cannot write sidecar {path}: {exc.strerror or exc}") from None
