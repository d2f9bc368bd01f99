"""LiveCapture: start/stop a capture, iterate its Records (see the package doc).

Process mode (the default) forks a CaptureChild (child.py) and parses its pipe records in a
thread; thread mode reads the socket in a thread of this process.
"""
from __future__ import annotations

import collections
import fcntl
import os
import select
import signal
import socket
import threading
import time
from typing import Iterator

from analyzer.errors import WirelabError
from analyzer.sources.live import child as child_proc
from analyzer.sources.live.child import END, ERROR, PARENT_DROPS, PIPE_REC, SAVED, STATS
from analyzer.sources.live.output import Output, write_failed_text
from analyzer.sources.live.packet_socket import (ANC_SIZE, RECV_SIZE, frame_reader,
                                                 interface_linktype, kernel_drops,
                                                 open_capture_socket)
from analyzer.sources.record import Record

# signals the forked child ignores: Ctrl-C, `kill` and a closed terminal reach the whole
# process group, and the parent decides when (and how cleanly) to stop
_PARENT_DECIDES = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class LiveCapture:
    """Capture on `iface` with BPF filter `bpf`; an iterator of Records (see module doc).

    count: stop after this many packets kept; duration: stop after this many seconds;
    write_to: capture file written as packets arrive (pcap, or pcapng by its name), or an
    `Output` (format, ring buffer, pcapng comment); queue_records: keep Records for the
    iterator (at most max_queue waiting; beyond that they are counted as dropped).
    `saved` (after the end): packets whole in the capture file(s).
    process: read the socket in a forked child process (like Wireshark's dumpcap) so that
    whatever this process does with the Records (the engine, the TUI) never starves the
    reader of the GIL; False reads it in a thread of this process.
    """

    def __init__(self, iface: str = "lo", bpf: str | None = "", count: int | None = None,
                 duration: float | None = None, write_to: str | Output | None = None,
                 snaplen: int = 262144, queue_records: bool = True, max_queue: int = 1_000_000,
                 process: bool = True):
        self.iface = iface
        self.process = process
        self.bpf = bpf or ""
        self.count = count
        self.duration = duration
        if isinstance(write_to, str):
            write_to = Output(write_to, interface=iface)
        self.output: Output | None = write_to
        self.write_to = write_to.path if write_to is not None else None
        self.saved = 0
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
        if self.output:
            self._writer = self._open_writer()
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
            child_proc.kill_child(self._child)           # it did not finish in time
            self._thread.join(1.0)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until count/duration ended the capture (True) or timeout passed (False)."""
        return self._done.wait(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    @property
    def child_pid(self) -> int:
        """The capture child's process id while it runs (process mode), else 0."""
        return self._child

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

    @property
    def waiting(self) -> int:
        """Records captured and not yet drained."""
        return len(self._queue)

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

    def _open_writer(self, check_only: bool = False):
        """The writer for `output` (check_only: made and removed again, to fail here, in the
        caller, when it cannot be created), or WirelabError (the socket closed)."""
        try:
            if check_only:
                return self.output.check(self.linktype, self.snaplen)
            return self.output.open(self.linktype, self.snaplen)
        except OSError as exc:
            self._sock.close()
            raise WirelabError(write_failed_text(self.output.path, exc)) from None

    def _deadline(self) -> float | None:
        return None if self.duration is None else self._started_at + self.duration

    def _read_kernel_stats(self) -> None:
        sock = self._sock
        if sock is None:
            return
        with self._stats_lock:
            try:
                drops = kernel_drops(sock)
            except OSError:
                return
            self.kernel_dropped += drops  # the kernel resets the counters on each read

    # -- process mode: a forked reader, Records over a pipe -------------------------------
    def _start_process(self) -> "LiveCapture":
        if self.output:
            self._open_writer(check_only=True)
        data_r, data_w = os.pipe()
        ctl_r, ctl_w = os.pipe()
        try:
            fcntl.fcntl(data_w, child_proc.F_SETPIPE_SZ, 1 << 20)
        except OSError:
            pass
        self._started_at = time.monotonic()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its work is checked through the parent
            code = 0
            try:
                signal.pthread_sigmask(signal.SIG_BLOCK, _PARENT_DECIDES)
                os.close(data_r)
                os.close(ctl_w)
                child_proc.CaptureChild(
                    self._sock, ctl_r, data_w, output=self.output,
                    frame_of=frame_reader(self.iface), linktype=self.linktype,
                    snaplen=self.snaplen, count=self.count, deadline=self._deadline(),
                    send_records=self.queue_records).run()
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
        buf = bytearray()
        finished = False
        statuses: dict = {}
        poll = select.poll()
        poll.register(fd, select.POLLIN | select.POLLHUP)
        try:
            while not finished:
                if not poll.poll(200):
                    if child_proc.child_gone(self._child, statuses):
                        self.error = self.error or RuntimeError("capture process ended unexpectedly")
                        break
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                buf += chunk
                pos, finished = self._take_pipe_records(buf, finished)
                del buf[:pos]
        except OSError as exc:
            self.error = self.error or exc
        finally:
            os.close(fd)
            self._end_process(statuses, finished)

    def _take_pipe_records(self, buf: bytearray, finished: bool) -> tuple[int, bool]:
        """Queue the complete pipe records at the start of buf, apply the control records;
        returns (bytes used, whether the END record was seen)."""
        q, qmax, linktype = self._queue, self.max_queue, self.linktype
        hdr_size, unpack = PIPE_REC.size, PIPE_REC.unpack_from
        pos, n = 0, len(buf)
        while n - pos >= hdr_size:
            ts, caplen, origlen = unpack(buf, pos)
            if ts < 0:      # control records from the child
                if ts == STATS:
                    self.captured, self.kernel_dropped = caplen, origlen
                elif ts == PARENT_DROPS:
                    self.queue_dropped += caplen
                elif ts == SAVED:
                    self.saved = caplen
                elif ts == ERROR:
                    if n - pos - hdr_size < caplen:
                        break
                    msg = bytes(buf[pos + hdr_size:pos + hdr_size + caplen])
                    self.error = RuntimeError(msg.decode("utf-8", "replace"))
                    pos += caplen
                elif ts == END:
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
        return pos, finished

    def _end_process(self, statuses: dict, finished: bool) -> None:
        """After the pipe: reap the child, turn a failed or unfinished child into .error."""
        if self._ctl_w >= 0:
            os.close(self._ctl_w)
            self._ctl_w = -1
        if self._child:
            if not child_proc.reap(self._child, 5.0, statuses):
                child_proc.kill_child(self._child)
            status = statuses.get(self._child)
            if self.error is None and status is not None and status != 0:
                self.error = RuntimeError(f"capture process failed ({child_proc.status_text(status)})")
            self._child = 0
        if self.error is None and not finished:
            self.error = RuntimeError("capture process ended without finishing its capture")
        self._done.set()

    # -- thread mode: the socket read in this process ---------------------------------------
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
        frame_of = frame_reader(self.iface)
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
                    data, anc, _flags, addr = recvmsg(RECV_SIZE, ANC_SIZE)
                except BlockingIOError:
                    if stop.is_set():
                        break
                    if writer is not None:
                        writer.tick()       # the file never lags while no packet comes
                    wait_ms = 100
                    if deadline is not None:
                        wait_ms = max(1, min(wait_ms, int((deadline - now) * 1000) + 1))
                    poll.poll(wait_ms)
                    continue
                except InterruptedError:
                    continue
                frame = frame_of(data, anc, addr, snaplen)
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
            self._end_thread(sock, writer)

    def _end_thread(self, sock: socket.socket, writer) -> None:
        self._read_kernel_stats()
        if writer is not None:
            try:
                writer.close()
            except OSError as exc:
                self.error = self.error or RuntimeError(write_failed_text(writer.path, exc))
            self.saved = writer.saved
            self._writer = None
        try:
            sock.close()
        except OSError:
            pass
        self._sock = None
        self._done.set()
