"""The forked capture child (process mode, like Wireshark's dumpcap) and its pipe format.

The child drains the socket, writes the capture file and sends each packet to the parent as
a pipe record: `PIPE_REC` (ts, caplen, origlen) then caplen bytes.  A negative ts is a control
record: STATS (packets captured, kernel drops), PARENT_DROPS (records the parent never got),
SAVED (packets whole in the capture file(s)), ERROR (a message of caplen bytes follows),
END (the capture finished; nothing follows).

While no packet comes the child still writes out what its writer holds (`tick()` at least
every 100 ms, a flush once 0.5 s passed since the last one), so the file on disk never lags
more than about a second behind the last packet, as dumpcap's: a SIGKILL loses nothing
written a second before.
"""
from __future__ import annotations

import collections
import os
import select
import socket
import struct
import time

from analyzer.sources.live.output import Output, write_failed_text
from analyzer.sources.live.packet_socket import ANC_SIZE, RECV_SIZE, kernel_drops

F_SETPIPE_SZ = 1031
PIPE_REC = struct.Struct("<dII")           # ts, caplen, origlen, then caplen bytes
STATS, PARENT_DROPS, ERROR, SAVED, END = -1.0, -2.0, -3.0, -4.0, -9.0  # control records' ts
_CHUNK = 256 * 1024                        # records are sent to the parent in chunks this big
_BACKLOG_MAX = 256 << 20                   # bytes waiting for a slow parent before dropping


class _WriteFailed(Exception):
    """The capture file could not be written (message ready for the user)."""


class _Backlog:
    """Chunks of pipe records waiting for the parent; writing them never blocks (unless
    asked to, at the end)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.chunks: collections.deque[bytes] = collections.deque()
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self.size += len(chunk)

    def flush(self, block: bool = False) -> None:
        chunks = self.chunks
        while chunks:
            head = chunks[0]
            try:
                k = os.write(self.fd, head)
            except BlockingIOError:
                if not block:
                    return
                select.select([], [self.fd], [], 1.0)
                continue
            except BrokenPipeError:
                chunks.clear()
                self.size = 0
                return
            self.size -= k
            if k == len(head):
                chunks.popleft()
            else:
                chunks[0] = head[k:]


class CaptureChild:
    """The child's work: `run()` drains `sock` until count/deadline/a stop byte on `ctl_r`
    (or its parent's death), writes `write_to`, sends records through `data_w`.

    It never blocks on the parent: records wait in a bounded backlog while the pipe is full
    (beyond the bound they are counted as dropped for the parent; the pcap keeps them)."""

    def __init__(self, sock: socket.socket, ctl_r: int, data_w: int, *, output: Output | None,
                 frame_of, linktype: int, snaplen: int, count: int | None,
                 deadline: float | None, send_records: bool) -> None:
        self.sock, self.ctl_r = sock, ctl_r
        self.output, self.linktype, self.snaplen = output, linktype, snaplen
        self.frame_of = frame_of
        self.saved = 0
        self.count, self.deadline, self.send_records = count, deadline, send_records
        self.backlog = _Backlog(data_w)
        self.out = bytearray()          # records not yet handed to the backlog
        self.captured = 0
        self.dropped_for_parent = 0
        os.set_blocking(data_w, False)

    def run(self) -> None:
        writer = None
        error = None
        try:
            if self.output:
                try:
                    writer = self.output.open(self.linktype, self.snaplen)
                except OSError as exc:
                    raise _WriteFailed(write_failed_text(self.output.path, exc)) from None
            self._loop(writer)
        except _WriteFailed as exc:
            error = str(exc)
            self.saved = writer.saved if writer is not None else 0
            writer = None         # its buffered bytes cannot be written either
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        self._finish(writer, error)

    def _loop(self, writer: PcapWriter | None) -> None:
        sock, ctl_r, backlog, out = self.sock, self.ctl_r, self.backlog, self.out
        count, deadline, snaplen = self.count, self.deadline, self.snaplen
        send_records = self.send_records
        sock.setblocking(False)
        poll = select.poll()
        poll.register(sock.fileno(), select.POLLIN)
        poll.register(ctl_r, select.POLLIN | select.POLLHUP)
        ctl_poll = select.poll()
        ctl_poll.register(ctl_r, select.POLLIN | select.POLLHUP)
        recvmsg, pack, frame_of = sock.recvmsg, PIPE_REC.pack, self.frame_of
        parent = os.getppid()
        n = 0
        stopping_at = None
        try:
            while True:
                if count is not None and n >= count:
                    break
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                if stopping_at is not None and now - stopping_at > 1.0:
                    break
                try:
                    data, anc, _flags, addr = recvmsg(RECV_SIZE, ANC_SIZE)
                except BlockingIOError:
                    if out:
                        backlog.add(bytes(out))
                        out.clear()
                    backlog.flush()
                    if writer is not None:
                        self._tick(writer)
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
                frame = frame_of(data, anc, addr, snaplen)
                if frame is None:
                    continue
                ts, data, origlen = frame
                n += 1
                if writer is not None:
                    try:
                        writer.write(ts, data, origlen)
                    except OSError as exc:
                        raise _WriteFailed(write_failed_text(writer.path, exc)) from None
                if send_records:
                    if backlog.size < _BACKLOG_MAX:
                        out += pack(ts, len(data), origlen)
                        out += data
                        if len(out) >= _CHUNK:
                            backlog.add(bytes(out))
                            out.clear()
                            backlog.flush()
                    else:
                        self.dropped_for_parent += 1
                if stopping_at is None and n % 1024 == 0 and ctl_poll.poll(0):
                    stopping_at = time.monotonic()
        finally:
            self.captured = n

    def _tick(self, writer) -> None:
        """The writer's timed flush (and ring switch) while no packet comes."""
        try:
            writer.tick()
        except OSError as exc:
            raise _WriteFailed(write_failed_text(writer.path, exc)) from None

    def _finish(self, writer: PcapWriter | None, error: str | None) -> None:
        """Close the socket and the pcap, send what is left and the trailer (blocking)."""
        drops = 0
        try:
            drops = kernel_drops(self.sock)
        except OSError:
            pass
        self.sock.close()
        if writer is not None:
            try:
                writer.close()
            except OSError as exc:
                error = error or write_failed_text(writer.path, exc)
            self.saved = writer.saved
        if self.out:
            self.backlog.add(bytes(self.out))
        pack = PIPE_REC.pack
        tail = (pack(STATS, self.captured, drops) + pack(PARENT_DROPS, self.dropped_for_parent, 0)
                + pack(SAVED, self.saved, 0))
        if error:
            msg = error.encode()[:4000]
            tail += pack(ERROR, len(msg), 0) + msg
        self.backlog.add(tail + pack(END, 0, 0))
        self.backlog.flush(block=True)


def child_gone(pid: int, statuses: dict | None = None) -> bool:
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


def reap(pid: int, timeout: float, statuses: dict | None = None) -> bool:
    """Wait up to `timeout` s for the child to end; True if it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child_gone(pid, statuses):
            return True
        time.sleep(0.01)
    return False


def status_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def kill_child(pid: int) -> None:
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
