"""The lab's frame: free loopback ports, a live capture around the traffic, the report.

A scenario module defines NAME, TITLE, DEMONSTRATES, EXPLANATION, optional DECODE_AS
(port -> codec, filled in by traffic()), and two functions:

    traffic(lab, opts) -> ctx      start peers on free ports, `with lab.capture(bpf):` run
                                   the traffic; return what the analysis needs to know
    analyze(eng, ctx) -> (found: list[str], facts: dict, ok: bool)
"""
from __future__ import annotations

import os
import socket
import stat
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from analyzer.sources.sidecar import sidecar_path
from analyzer.errors import WirelabError
from analyzer.sources.live import LiveCapture

HOST = "127.0.0.1"
SETTLE = 0.3        # seconds to wait after the traffic before stopping the capture


@dataclass
class Report:
    scenario: str
    title: str
    demonstrates: str
    pcap: str
    sidecar: str | None
    found: list[str]
    explanation: str
    facts: dict
    ok: bool
    packets: int = 0
    captured: int = 0
    dropped: int = 0
    warnings: list[str] = field(default_factory=list)
    context: dict = field(default_factory=dict)   # what traffic() returned (ports, sizes...)
    explained: dict = field(default_factory=dict)  # "tcp 0" -> analyzer.render.explain lines
    live: bool = False                             # captured just now (else replayed)
    attempts: int = 1                              # runs it took for the phenomenon to show

    def to_json(self) -> dict:
        return {"scenario": self.scenario, "title": self.title,
                "demonstrates": self.demonstrates, "pcap": self.pcap, "sidecar": self.sidecar,
                "packets": self.packets, "live": self.live, "captured": self.captured,
                "dropped": self.dropped,
                "ok": self.ok, "found": self.found, "facts": self.facts,
                "explanation": self.explanation, "warnings": self.warnings,
                "context": self.context, "attempts": self.attempts}


def _replaceable(path: str) -> bool:
    """True when `path` is an existing regular file (or a link to one) we may replace;
    False when nothing is there.  Anything else (directory, device, fifo, socket) is
    never touched: WirelabError."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):        # a dangling link: replace the link, not its target
            return True
        return False
    except OSError as e:
        raise WirelabError(f"cannot write {path}: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise WirelabError(f"cannot write {path}: not a regular file")
    return True


class Lab:
    """One scenario run: where the capture goes, the sidecar writer, helper sockets."""

    def __init__(self, pcap_path: str, with_sidecar: bool = True, default_ports: bool = False):
        self.pcap = pcap_path
        self.default_ports = default_ports   # try the protocol's well-known port first
        self.sidecar = sidecar_path(pcap_path) if with_sidecar else None
        replace = [p for p in (pcap_path, sidecar_path(pcap_path)) if _replaceable(p)]
        for p in replace:
            os.remove(p)
        from analyzer.lab.scenarios.peers import BufferedAppIO
        self.appio = BufferedAppIO(self.sidecar) if self.sidecar else None
        self.captured = 0
        self.dropped = 0
        self._cleanup: list = []
        self.live: LiveCapture | None = None

    def port_for(self, default: int | None, kind: int = socket.SOCK_STREAM) -> int:
        """`default` when asked to use well-known ports and it is free, else 0 (any free)."""
        if not (self.default_ports and default):
            return 0
        probe = socket.socket(socket.AF_INET, kind)
        try:
            if kind == socket.SOCK_STREAM:   # TIME_WAIT leftovers do not make it busy
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((HOST, default))
        except OSError:
            return 0
        finally:
            probe.close()
        return default

    def tcp_listener(self, backlog: int = 64, default: int | None = None) -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, self.port_for(default)))
        except OSError:
            s.bind((HOST, 0))
        s.listen(backlog)
        self._cleanup.append(s.close)
        return s

    def udp_socket(self, default: int | None = None) -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((HOST, self.port_for(default, socket.SOCK_DGRAM)))
        except OSError:
            s.bind((HOST, 0))
        self._cleanup.append(s.close)
        return s

    def reference_server(self, protocol: str, default: int | None = None, **opts):
        """The reference server (analyzer.lab.servers) on a free port, recording
        into this run's sidecar; stopped when the run ends.  Returns its handle (.port)."""
        from analyzer.lab.servers import start_server
        try:
            handle = start_server(protocol, HOST, self.port_for(default), appio=self.appio, **opts)
        except OSError:
            handle = start_server(protocol, HOST, 0, appio=self.appio, **opts)
        self._cleanup.append(handle.stop)
        return handle

    def on_close(self, fn) -> None:
        self._cleanup.append(fn)

    @contextmanager
    def capture(self, bpf: str, records: bool = False):
        """Capture `bpf` on lo around the block; the socket is ready when the block starts.

        records: also keep the Records in memory (LiveCapture.peek()) for live decisions."""
        cap = LiveCapture("lo", bpf, write_to=self.pcap, queue_records=records)
        cap.start()
        self.live = cap
        try:
            yield cap
            time.sleep(SETTLE)
        finally:
            cap.stop()
            self.captured, self.dropped = cap.stats
        if cap.error is not None:
            raise WirelabError(f"capture failed: {cap.error}")

    def close(self) -> None:
        for fn in reversed(self._cleanup):
            try:
                fn()
            except Exception:
                pass
        self._cleanup.clear()
        if self.appio is not None:
            self.appio.close()
            self.appio = None


def bpf_ports(transport: str, ports) -> str:
    return " or ".join(f"{transport} port {p}" for p in ports)


def run_threads(fns, timeout: float = 20.0) -> list:
    """Run callables in threads; return their results (re-raise the first exception)."""
    results: list = [None] * len(fns)
    errors: list = []

    def wrap(i, fn):
        try:
            results[i] = fn()
        except BaseException as exc:  # reported to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(i, fn), daemon=True) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise WirelabError("lab traffic did not finish in time")
    if errors:
        raise errors[0]
    return results


def default_pcap(name: str) -> str:
    d = tempfile.mkdtemp(prefix="wirelab-lab-")
    return os.path.join(d, f"{name}.pcap")
