"""Live capture: Scapy compiles the BPF filter, a raw AF_PACKET socket reads the frames.

No per-packet Scapy dissection happens here (Scapy's sniff() loses most packets at 5k/s).
A reader drains the socket as fast as it can, appends the raw bytes to a pcap file and
queues `Record`s for the engine.  By default the reader is a forked child process (like
Wireshark's dumpcap): whatever this process does with the Records never starves it of the
GIL; it sends them back through a pipe.  On `lo` each packet is seen twice (going out and
coming in): the filter keeps only the incoming copy, in the kernel ("inbound").

    with LiveCapture("lo", "tcp port 9000", write_to="out.pcap", duration=5) as cap:
        for rec in cap:            # Records until count/duration/stop()
            engine.feed(rec)
    captured, dropped = cap.stats

`start()` is synchronous: when it returns the socket is bound and the filter attached, so
traffic started afterwards is captured.  `stop()` may be called from any thread.
"""
from __future__ import annotations

import collections
import fcntl
import os
import re
import select
import signal
import socket
import struct
import threading
import time
from typing import Iterator

from analyzer.errors import PermissionNeeded, WirelabError
from analyzer.sources.record import Record

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
SO_ATTACH_FILTER = 26
ARPHRD_TO_LINKTYPE = {1: 1, 772: 1, 65534: 101, 776: 101}  # ether, lo (ether), tun, sit: raw IP
_TS = struct.Struct("qq")
_STATS = struct.Struct("II")
NO_RIGHTS_HINT = ("live capture needs root or the CAP_NET_RAW capability "
                  "(try: sudo wirelab ...); without it, replay a bundled capture: "
                  "wirelab summary captures/handshake.pcap (or: wirelab demo)")


def _frame(data: bytes, anc, addr, snaplen: int):
    """(ts, data cut to snaplen, origlen) of one recvmsg() result, or None for the outgoing
    twin of a loopback packet (on lo each packet is seen going out and coming in: keep the
    incoming one; on other interfaces outgoing packets are real and kept)."""
    if addr[2] == PACKET_OUTGOING and (addr[0] == "lo" or addr[3] == 772):
        return None
    ts = None
    for level, typ, cdata in anc:
        if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(cdata) >= 16:
            sec, nsec = _TS.unpack(cdata[:16])
            ts = sec + nsec * 1e-9
    if ts is None:
        ts = time.time()
    origlen = len(data)
    return ts, (data[:snaplen] if origlen > snaplen else data), origlen


class PcapSink:
    """Append-only classic pcap writer (microsecond timestamps), buffered."""

    _HDR = struct.Struct("<IHHiIII")
    _REC = struct.Struct("<IIII")

    def __init__(self, path: str, linktype: int, snaplen: int = 262144):
        self._f = open(path, "wb", buffering=1 << 20)
        self._f.write(self._HDR.pack(0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))

    def write(self, ts: float, data: bytes, origlen: int) -> None:
        sec = int(ts)
        usec = int(round((ts - sec) * 1e6))
        if usec >= 1000000:
            sec, usec = sec + 1, usec - 1000000
        self._f.write(self._REC.pack(sec, usec, len(data), origlen))
        self._f.write(data)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def _open_writer(path: str, linktype: int, snaplen: int):
    """Engineer B's PcapWriter when it exists, else our own small sink."""
    try:
        from analyzer.sources.pcapwriter import PcapWriter  # type: ignore
    except ImportError:
        return PcapSink(path, linktype, snaplen)
    try:
        w = PcapWriter(path, linktype=linktype, snaplen=snaplen)
    except TypeError:
        return PcapSink(path, linktype, snaplen)
    if not hasattr(w, "write"):
        return PcapSink(path, linktype, snaplen)
    return _WriterAdapter(w)


class _WriterAdapter:
    def __init__(self, w):
        self.w = w

    def write(self, ts: float, data: bytes, origlen: int) -> None:
        self.w.write(ts, data, origlen)

    def flush(self) -> None:
        getattr(self.w, "flush", lambda: None)()

    def close(self) -> None:
        self.w.close()


def interface_linktype(iface: str) -> int:
    """pcap LINKTYPE of an interface from /sys (1 = Ethernet, which `lo` also uses)."""
    try:
        with open(f"/sys/class/net/{iface}/type") as f:
            arphrd = int(f.read().strip())
    except (OSError, ValueError):
        raise WirelabError(f"no such interface: {iface!r}") from None
    if arphrd not in ARPHRD_TO_LINKTYPE:
        raise WirelabError(f"interface {iface!r} has unsupported hardware type {arphrd}")
    return ARPHRD_TO_LINKTYPE[arphrd]


def attach_bpf(sock: socket.socket, expr: str, linktype: int, snaplen: int) -> None:
    """Compile `expr` with libpcap (through Scapy) and attach it to `sock`.

    libpcap's compiled filter accepts a packet by returning a snap length of 65535, which
    would cut loopback's 65550-byte frames: the accept value is raised to `snaplen`."""
    from scapy.arch.common import compile_filter, free_filter
    from scapy.libs.structures import sock_fprog
    bp = compile_filter(expr, linktype=linktype)
    try:
        for i in range(bp.bf_len):
            ins = bp.bf_insns[i]
            if ins.code == 0x06 and ins.k:          # BPF_RET|BPF_K, accept
                ins.k = max(ins.k, snaplen)
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, sock_fprog(bp.bf_len, bp.bf_insns))
    finally:
        free_filter(bp)


def open_capture_socket(iface: str, bpf: str | None, rcvbuf: int = 64 << 20,
                        linktype: int = 1, snaplen: int = 262144) -> socket.socket:
    """AF_PACKET socket with the filter attached *before* it is bound (no unfiltered leak).

    On lo the kernel hands every packet over twice (going out, coming in): the outgoing twin
    is dropped in the kernel by the filter ("inbound"), so it costs no buffer space."""
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except PermissionError:
        raise PermissionNeeded(NO_RIGHTS_HINT) from None
    expr = bpf or ""
    if iface == "lo":
        expr = f"({expr}) and inbound" if expr else "inbound"
    try:
        if expr:
            try:
                attach_bpf(sock, expr, linktype, snaplen)
            except ImportError as exc:  # pragma: no cover - scapy without libpcap
                raise WirelabError(f"cannot compile BPF filters: {exc}") from None
            except WirelabError:
                raise
            except Exception as exc:
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                reason = re.search(r"\(([^()]*)\)\s*$", msg)   # libpcap's reason, without
                msg = reason.group(1) if reason else msg     # our added "and inbound"
                raise WirelabError(f"bad capture filter {bpf!r}: {msg}") from None
        for opt in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, rcvbuf)
                break
            except OSError:
                continue
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.bind((iface, ETH_P_ALL))
    except PermissionError:
        sock.close()
        raise PermissionNeeded(NO_RIGHTS_HINT) from None
    except OSError as exc:
        sock.close()
        raise WirelabError(f"cannot capture on {iface!r}: {exc.strerror or exc}") from None
    except BaseException:
        sock.close()
        raise
    return sock


class LiveCapture:
    """Capture on `iface` with BPF filter `bpf`; an iterator of Records (see module doc).

    count: stop after this many packets kept; duration: stop after this many seconds;
    write_to: pcap path written as packets arrive; queue_records: keep Records for the
    iterator (at most max_queue waiting; beyond that they are counted as dropped).
    process: read the socket in a forked child process (like Wireshark's dumpcap) so that
    whatever this process does with the Records (the engine, the TUI) never starves the
    reader of the GIL; False reads it in a thread of this process.
    """

    def __init__(self, iface: str = "lo", bpf: str | None = "", count: int | None = None,
                 duration: float | None = None, write_to: str | None = None,
                 snaplen: int = 262144, queue_records: bool = True, max_queue: int = 1_000_000,
                 process: bool = True):
        self.iface = iface
        self.process = process
        self.bpf = bpf or ""
        self.count = count
        self.duration = duration
        self.write_to = write_to
        self.snaplen = snaplen
        self.queue_records = queue_records
        self.max_queue = max_queue
        self.linktype = 1
        self.captured = 0
        self.kernel_dropped = 0
        self.queue_dropped = 0
        self.error: BaseException | None = None
        self._sock: socket.socket | None = None
        self._writer = None
        self._queue: collections.deque[Record] = collections.deque()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = 0.0
        self._stats_lock = threading.Lock()
        self._child = 0
        self._ctl_w = -1

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> "LiveCapture":
        """Open the socket and attach the filter (synchronously), then start reading."""
        if self._thread is not None:
            return self
        self.linktype = interface_linktype(self.iface)
        self._sock = open_capture_socket(self.iface, self.bpf, linktype=self.linktype,
                                         snaplen=self.snaplen)
        if self.process:
            return self._start_process()
        if self.write_to:
            try:
                self._writer = _open_writer(self.write_to, self.linktype, self.snaplen)
            except OSError as exc:
                self._sock.close()
                raise WirelabError(f"cannot write {self.write_to}: {exc.strerror or exc}") from None
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="wirelab-live", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading (drains what the kernel already holds), close the file."""
        self._stop.set()
        if self._ctl_w >= 0:
            try:
                os.write(self._ctl_w, b"s")
            except OSError:
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._child and self._thread is not None and self._thread.is_alive():
            _kill_child(self._child)           # it did not finish in time
            self._thread.join(1.0)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until count/duration ended the capture (True) or timeout passed (False)."""
        return self._done.wait(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    @property
    def stats(self) -> tuple[int, int]:
        """(packets captured, packets dropped): kernel drops plus records we could not queue."""
        self._read_kernel_stats()
        return self.captured, self.kernel_dropped + self.queue_dropped

    def __enter__(self) -> "LiveCapture":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __iter__(self) -> Iterator[Record]:
        if self._thread is None:
            self.start()
        q = self._queue
        while True:
            while q:
                yield q.popleft()
            if self._done.is_set():
                while q:
                    yield q.popleft()
                return
            self._done.wait(0.05)

    def peek(self) -> list[Record]:
        """A snapshot of the Records queued so far (left in the queue)."""
        return list(self._queue)

    def drain(self) -> list[Record]:
        """The Records queued so far (removes them from the queue)."""
        out = []
        q = self._queue
        while q:
            out.append(q.popleft())
        return out

    # -- the reader thread -------------------------------------------------------------
    # -- process mode: a forked reader, Records over a pipe -----------------------------------
    def _start_process(self) -> "LiveCapture":
        if self.write_to:
            try:   # fail here, in the caller, when the file cannot be created or written
                _open_writer(self.write_to, self.linktype, self.snaplen).close()
            except OSError as exc:
                self._sock.close()
                raise WirelabError(f"cannot write {self.write_to}: {exc.strerror or exc}") from None
        data_r, data_w = os.pipe()
        ctl_r, ctl_w = os.pipe()
        try:
            fcntl.fcntl(data_w, F_SETPIPE_SZ, 1 << 20)
        except OSError:
            pass
        self._started_at = time.monotonic()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its work is checked through the parent
            code = 0
            try:
                # Ctrl-C reaches the whole process group: the parent decides when to stop
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
                os.close(data_r)
                os.close(ctl_w)
                _child_capture(self._sock, ctl_r, data_w, self)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(data_w)
        os.close(ctl_r)
        self._sock.close()
        self._sock = None
        self._child, self._ctl_w = pid, ctl_w
        self._thread = threading.Thread(target=self._pipe_reader, args=(data_r,),
                                        name="wirelab-live-pipe", daemon=True)
        self._thread.start()
        return self

    def _pipe_reader(self, fd: int) -> None:
        """Parse the child's records into the queue until its trailer (or its death)."""
        q, qmax, linktype = self._queue, self.max_queue, self.linktype
        hdr_size, unpack = _PIPE_REC.size, _PIPE_REC.unpack_from
        buf = bytearray()
        finished = False
        statuses: dict = {}
        poll = select.poll()
        poll.register(fd, select.POLLIN | select.POLLHUP)
        try:
            while not finished:
                if not poll.poll(200):
                    if _child_gone(self._child, statuses):
                        self.error = self.error or RuntimeError("capture process ended unexpectedly")
                        break
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                buf += chunk
                pos, n = 0, len(buf)
                while n - pos >= hdr_size:
                    ts, caplen, origlen = unpack(buf, pos)
                    if ts < 0:      # control records from the child
                        if ts == -1.0:
                            self.captured, self.kernel_dropped = caplen, origlen
                        elif ts == -2.0:
                            self.queue_dropped += caplen
                        elif ts == -3.0:
                            if n - pos - hdr_size < caplen:
                                break
                            msg = bytes(buf[pos + hdr_size:pos + hdr_size + caplen])
                            self.error = RuntimeError(msg.decode("utf-8", "replace"))
                            pos += caplen
                        elif ts == -9.0:
                            finished = True
                        pos += hdr_size
                        continue
                    if n - pos - hdr_size < caplen:
                        break
                    start = pos + hdr_size
                    if len(q) < qmax:
                        q.append(Record(ts, linktype, bytes(buf[start:start + caplen]), origlen, -1))
                    else:
                        self.queue_dropped += 1
                    if not finished:
                        self.captured += 1
                    pos = start + caplen
                del buf[:pos]
        except OSError as exc:
            self.error = self.error or exc
        finally:
            os.close(fd)
            if self._ctl_w >= 0:
                os.close(self._ctl_w)
                self._ctl_w = -1
            if self._child:
                if not _reap(self._child, 5.0, statuses):
                    _kill_child(self._child)
                status = statuses.get(self._child)
                if self.error is None and status is not None and status != 0:
                    self.error = RuntimeError(f"capture process failed ({_status_text(status)})")
                self._child = 0
            if self.error is None and not finished:
                self.error = RuntimeError("capture process ended without finishing its capture")
            self._done.set()

    def _read_kernel_stats(self) -> None:
        sock = self._sock
        if sock is None:
            return
        with self._stats_lock:
            try:
                _pkts, drops = _STATS.unpack(sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
            except OSError:
                return
            self.kernel_dropped += drops  # the kernel resets the counters on each read

    def _deadline(self) -> float | None:
        return None if self.duration is None else self._started_at + self.duration

    def _run(self) -> None:
        sock = self._sock
        assert sock is not None
        writer = self._writer
        q = self._queue
        qmax = self.max_queue
        keep_records = self.queue_records
        linktype = self.linktype
        snaplen = self.snaplen
        count = self.count
        deadline = self._deadline()
        stop = self._stop
        recvmsg = sock.recvmsg
        bufsize = 65536 + 256
        ancsize = socket.CMSG_SPACE(16)
        n = 0
        try:
            sock.setblocking(False)
            poll = select.poll()
            poll.register(sock.fileno(), select.POLLIN)
            stopping_at = None
            while True:
                if count is not None and n >= count:
                    break
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                if stop.is_set():
                    # keep draining what is already in the socket buffer, briefly
                    if stopping_at is None:
                        stopping_at = now
                    elif now - stopping_at > 1.0:
                        break
                try:
                    data, anc, _flags, addr = recvmsg(bufsize, ancsize)
                except BlockingIOError:
                    if stop.is_set():
                        break
                    wait_ms = 100
                    if deadline is not None:
                        wait_ms = max(1, min(wait_ms, int((deadline - now) * 1000) + 1))
                    poll.poll(wait_ms)
                    continue
                except InterruptedError:
                    continue
                frame = _frame(data, anc, addr, snaplen)
                if frame is None:
                    continue
                ts, data, origlen = frame
                n += 1
                if writer is not None:
                    writer.write(ts, data, origlen)
                if keep_records:
                    if len(q) < qmax:
                        q.append(Record(ts, linktype, data, origlen, -1))
                    else:
                        self.queue_dropped += 1
                self.captured = n
        except BaseException as exc:  # surfaced to the caller through .error
            self.error = exc
        finally:
            self.captured = n
            self._read_kernel_stats()
            if writer is not None:
                try:
                    writer.close()
                except OSError as exc:
                    self.error = self.error or exc
                self._writer = None
            try:
                sock.close()
            except OSError:
                pass
            self._sock = None
            self._done.set()


def capture_rights() -> bool:
    """True when this process may open a raw AF_PACKET socket."""
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except (PermissionError, OSError):
        return False
    s.close()
    return True


# -- the capture child (process mode) ----------------------------------------------------------
F_SETPIPE_SZ = 1031
_PIPE_REC = struct.Struct("<dII")          # ts, caplen, origlen, then caplen bytes
_CHUNK = 256 * 1024                        # records are sent to the parent in chunks this big
_BACKLOG_MAX = 256 << 20                   # bytes waiting for a slow parent before dropping


class _WriteFailed(Exception):
    """The capture file could not be written (message ready for the user)."""


def _child_capture(sock: socket.socket, ctl_r: int, data_w: int, cfg: "LiveCapture") -> None:
    """The child's loop: drain the socket, write the pcap, send records to the parent.

    It never blocks on the parent: records wait in a bounded backlog while the pipe is full
    (beyond the bound they are counted as dropped for the parent; the pcap keeps them)."""
    writer = None
    send_records = cfg.queue_records
    count, snaplen = cfg.count, cfg.snaplen
    deadline = None if cfg.duration is None else cfg._started_at + cfg.duration
    os.set_blocking(data_w, False)
    sock.setblocking(False)
    poll = select.poll()
    poll.register(sock.fileno(), select.POLLIN)
    poll.register(ctl_r, select.POLLIN | select.POLLHUP)
    ctl_poll = select.poll()
    ctl_poll.register(ctl_r, select.POLLIN | select.POLLHUP)
    recvmsg, pack = sock.recvmsg, _PIPE_REC.pack
    ancsize = socket.CMSG_SPACE(16)
    out = bytearray()
    backlog: collections.deque = collections.deque()
    backlog_bytes = 0
    dropped_for_parent = 0
    n = 0
    stopping_at = None
    error = None
    parent = os.getppid()

    def flush(block: bool = False) -> None:
        nonlocal backlog_bytes
        while backlog:
            head = backlog[0]
            try:
                k = os.write(data_w, head)
            except BlockingIOError:
                if not block:
                    return
                select.select([], [data_w], [], 1.0)
                continue
            except BrokenPipeError:
                backlog.clear()
                backlog_bytes = 0
                return
            backlog_bytes -= k
            if k == len(head):
                backlog.popleft()
            else:
                backlog[0] = head[k:]

    try:
        if cfg.write_to:
            try:
                writer = _open_writer(cfg.write_to, cfg.linktype, cfg.snaplen)
            except OSError as exc:
                raise _WriteFailed(f"cannot write {cfg.write_to}: {exc.strerror or exc}") from None
        while True:
            if count is not None and n >= count:
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            if stopping_at is not None and now - stopping_at > 1.0:
                break
            try:
                data, anc, _flags, addr = recvmsg(65536 + 256, ancsize)
            except BlockingIOError:
                if out:
                    backlog.append(bytes(out))
                    backlog_bytes += len(out)
                    out.clear()
                flush()
                if stopping_at is not None:
                    break
                wait_ms = 100
                if deadline is not None:
                    wait_ms = max(1, min(wait_ms, int((deadline - now) * 1000) + 1))
                for fd, _ev in poll.poll(wait_ms):
                    if fd == ctl_r:
                        stopping_at = time.monotonic()
                        poll.unregister(ctl_r)
                if os.getppid() != parent:      # the parent died without stop(): finish
                    stopping_at = stopping_at or time.monotonic()
                continue
            except InterruptedError:
                continue
            frame = _frame(data, anc, addr, snaplen)
            if frame is None:
                continue
            ts, data, origlen = frame
            n += 1
            if writer is not None:
                try:
                    writer.write(ts, data, origlen)
                except OSError as exc:
                    raise _WriteFailed(f"cannot write {cfg.write_to}: {exc.strerror or exc}") from None
            if send_records:
                if backlog_bytes < _BACKLOG_MAX:
                    out += pack(ts, len(data), origlen)
                    out += data
                    if len(out) >= _CHUNK:
                        backlog.append(bytes(out))
                        backlog_bytes += len(out)
                        out.clear()
                        flush()
                else:
                    dropped_for_parent += 1
            if stopping_at is None and n % 1024 == 0 and ctl_poll.poll(0):
                stopping_at = time.monotonic()
    except _WriteFailed as exc:
        error = str(exc)
        writer = None         # its buffered bytes cannot be written either
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    kernel_dropped = 0
    try:
        _pkts, kernel_dropped = _STATS.unpack(sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    except OSError:
        pass
    sock.close()
    if writer is not None:
        try:
            writer.close()
        except OSError as exc:
            error = error or f"cannot write {cfg.write_to}: {exc.strerror or exc}"
    if out:
        backlog.append(bytes(out))
    tail = pack(-1.0, n, kernel_dropped) + pack(-2.0, dropped_for_parent, 0)
    if error:
        msg = error.encode()[:4000]
        tail += pack(-3.0, len(msg), 0) + msg
    backlog.append(tail + pack(-9.0, 0, 0))
    flush(block=True)


def _child_gone(pid: int, statuses: dict | None = None) -> bool:
    """True when the child has ended (its wait status kept in statuses[pid])."""
    if not pid:
        return True
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    if done and statuses is not None:
        statuses[pid] = status
    return done != 0


def _reap(pid: int, timeout: float, statuses: dict | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _child_gone(pid, statuses):
            return True
        time.sleep(0.01)
    return False


def _status_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _kill_child(pid: int) -> None:
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
