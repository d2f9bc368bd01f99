"""The reference clients: one function per protocol, returning what they received.

All take (host, port, ...) and the knobs: appio (sidecar writer), nodelay (None = leave the
OS default, True/False = set TCP_NODELAY), timeout (seconds per socket operation).
Errors: OSError for network trouble (socket.timeout included), LabProtocolError when the
server's bytes break the protocol, AuthRejected when the auth server hangs up after the answer.
"""
from __future__ import annotations

import hashlib
import os
import socket
import tempfile

from analyzer.sources.sidecar import AppIOWriter
from analyzer.errors import WirelabError
from analyzer.lab.netio import AppSocket, addr_text, length_error_text, connect, family_of
from dissectors import auth, bigreply, filexfer, lenmsg, udpecho
from dissectors.base import CLIENT, MAX_FRAME, MAX_HEADER, RemoteProtocolError

READ_SIZE = 65536


class LabProtocolError(WirelabError):
    """The server's reply broke the protocol (or the server closed too early)."""


class AuthRejected(WirelabError):
    """The auth server closed the connection after our answer."""


# --- chat -----------------------------------------------------------------------------
def chat_client(host: str, port: int, messages: list[bytes], *, naive: bool = False,
                wait: bool = True, rounds: int = 0, nodelay: bool | None = None,
                recv_size: int = 1024, cork: bool = False, appio: AppIOWriter | None = None,
                timeout: float = 10.0, naive_timeout: float = 0.5) -> list[bytes]:
    """Send each message and collect "replies".

    wait=True: send one message, read its reply, then the next (request/reply rounds).
    wait=False: send all messages back to back (with cork=True inside TCP_CORK), then read;
    with rounds=N the first N messages are still request/reply rounds (after a few rounds,
    Nagle coalesces the back-to-back ones into one segment; with nodelay=True it does not).
    naive=False: a reply is exactly len(message) bytes (the server upper-cases what it reads),
    read in a loop.  naive=True: ONE recv(recv_size) is taken as the reply, like classroom
    code; with wait=False the leftover reads show how replies bleed into each other (a read
    that times out after `naive_timeout` gives b"").
    """
    conn = connect(host, port, timeout=timeout, nodelay=nodelay, appio=appio)
    replies: list[bytes] = []
    try:
        if not wait and rounds:
            replies = chat_rounds(conn, messages[:rounds], naive, recv_size, timeout)
            messages = messages[rounds:]
        if wait:
            replies = chat_rounds(conn, messages, naive, recv_size, timeout)
        else:
            if cork:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            for msg in messages:
                conn.send_all(msg)
            if cork:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
            if naive:
                for _ in messages:
                    replies.append(_naive_read(conn, recv_size, naive_timeout))
            else:
                data = conn.recv_exact(sum(len(m) for m in messages))
                pos = 0
                for msg in messages:
                    replies.append(data[pos:pos + len(msg)])
                    pos += len(msg)
        conn.shutdown_write()
        return replies
    finally:
        conn.close()


def chat_rounds(conn: AppSocket, messages: list[bytes], naive: bool, recv_size: int,
                timeout: float) -> list[bytes]:
    """Request/reply: send one message, read its reply, repeat."""
    replies = []
    for msg in messages:
        conn.send_all(msg)
        replies.append(_naive_read(conn, recv_size, timeout) if naive else conn.recv_exact(len(msg)))
    return replies


def _naive_read(conn: AppSocket, size: int, timeout: float) -> bytes:
    conn.settimeout(timeout)
    try:
        return conn.recv(size)
    except socket.timeout:
        return b""


# --- lenmsg ---------------------------------------------------------------------------
def lenmsg_client(host: str, port: int, messages: list[bytes], *, variant: str = "network",
                  pipeline: bool = False, nodelay: bool | None = None,
                  appio: AppIOWriter | None = None, timeout: float = 10.0) -> list[bytes]:
    """Send framed messages; return the payload of each framed reply, in order.

    pipeline=False waits for each reply before the next send; True sends all, then reads.
    """
    conn = connect(host, port, timeout=timeout, nodelay=nodelay, appio=appio)
    codec = lenmsg.Connection(CLIENT, variant=variant)
    replies: list[bytes] = []
    pending: list = []

    def read_until(count: int) -> None:
        while len(replies) < count:
            if pending:
                replies.append(pending.pop(0).payload)
                continue
            data = conn.recv(READ_SIZE)
            try:
                pending.extend(codec.receive_data(data))
            except RemoteProtocolError as exc:
                text = length_error_text(str(exc), variant, MAX_FRAME, "lenmsg", side="client")
                raise LabProtocolError(f"bad reply from the lenmsg server: {text}") from None
            if not data:
                other = "native" if variant == "network" else "network"
                hint = ("" if replies else f" (a server that reads lengths in the other byte order "
                        f"closes like this: try --variant {other})")
                raise LabProtocolError(f"server closed after {len(replies)} of {count} replies{hint}")

    try:
        if pipeline:
            for msg in messages:
                conn.send_all(codec.send(lenmsg.Frame(msg)))
            read_until(len(messages))
        else:
            for i, msg in enumerate(messages):
                conn.send_all(codec.send(lenmsg.Frame(msg)))
                read_until(i + 1)
        conn.shutdown_write()
        return replies
    finally:
        conn.close()


# --- filexfer -------------------------------------------------------------------------
def _read_status(conn: AppSocket, codec: filexfer.Connection, events: list) -> filexfer.Status:
    while True:
        while events:
            ev = events.pop(0)
            if isinstance(ev, filexfer.Status):
                return ev
        data = conn.recv(READ_SIZE)
        try:
            events.extend(codec.receive_data(data))
        except RemoteProtocolError as exc:
            text = length_error_text(str(exc), codec.variant, MAX_HEADER, "filexfer", side="client")
            raise LabProtocolError(f"bad reply from the filexfer server: {text}") from None
        if not data and not events:
            raise LabProtocolError("server closed without a status")


def upload(host: str, port: int, path: str, *, name: str | None = None, send_sha256: bool = True,
           variant: str = "network", chunk_size: int = READ_SIZE, nodelay: bool | None = None,
           appio: AppIOWriter | None = None, timeout: float = 30.0) -> dict:
    """Upload the file at `path` (streamed) as `name`; return the server's status dict."""
    size = os.path.getsize(path)
    digest = None
    if send_sha256:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()
    name = os.path.basename(path) if name is None else name
    with open(path, "rb") as f:
        return _upload_stream(host, port, name, size, digest, f, variant=variant, chunk_size=chunk_size,
                              nodelay=nodelay, appio=appio, timeout=timeout)


def upload_bytes(host: str, port: int, name: str, data: bytes, **kw) -> dict:
    """Upload in-memory `data` as `name` (tests, small files)."""
    import io
    digest = hashlib.sha256(data).hexdigest() if kw.pop("send_sha256", True) else None
    return _upload_stream(host, port, name, len(data), digest, io.BytesIO(data), **kw)


def _upload_stream(host, port, name, size, digest, f, *, variant="network", chunk_size=READ_SIZE,
                   nodelay=None, appio=None, timeout=30.0) -> dict:
    conn = connect(host, port, timeout=timeout, nodelay=nodelay, appio=appio)
    codec = filexfer.Connection(CLIENT, variant=variant)
    events: list = []
    try:
        conn.send_all(codec.send(filexfer.Header.upload(name, size, digest)))
        left = size
        try:
            while left > 0:
                chunk = f.read(min(chunk_size, left))
                if not chunk:
                    raise LabProtocolError(f"file shrank while uploading ({size - left} of {size} bytes)")
                left -= len(chunk)
                conn.send_all(codec.send(filexfer.Content(chunk, left == 0)))
        except (BrokenPipeError, ConnectionResetError):
            pass   # the server refused early: its status is what matters
        status = _read_status(conn, codec, events)
        conn.shutdown_write()
        return dict(status.info)
    finally:
        conn.close()


def download(host: str, port: int, name: str, dest: str, *, variant: str = "network",
             nodelay: bool | None = None, appio: AppIOWriter | None = None,
             timeout: float = 30.0) -> dict:
    """Fetch stored file `name` into `dest` (temp file + rename, sha256 checked); return the
    status dict (with "ok": false and the server's error when refused)."""
    conn = connect(host, port, timeout=timeout, nodelay=nodelay, appio=appio)
    codec = filexfer.Connection(CLIENT, variant=variant)
    events: list = []
    try:
        conn.send_all(codec.send(filexfer.Header.get(name)))
        status = _read_status(conn, codec, events)
        if not status.ok:
            return dict(status.info)
        d = os.path.dirname(os.path.abspath(dest))
        fd, tmp = tempfile.mkstemp(prefix=".wirelab-download-", dir=d)
        h = hashlib.sha256()
        got = 0
        try:
            with os.fdopen(fd, "wb") as out:
                done = status.content_length == 0
                while not done:
                    while events and not done:
                        ev = events.pop(0)
                        out.write(ev.data)
                        h.update(ev.data)
                        got += len(ev.data)
                        done = ev.end_of_message
                    if done:
                        break
                    data = conn.recv(READ_SIZE)
                    try:
                        events.extend(codec.receive_data(data))
                    except RemoteProtocolError as exc:
                        raise LabProtocolError(f"download of {name!r} broken: {exc}") from None
            if status.info.get("sha256") and h.hexdigest() != status.info["sha256"]:
                raise LabProtocolError(f"download of {name!r}: sha256 mismatch")
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        conn.shutdown_write()
        return dict(status.info)
    finally:
        conn.close()


# --- auth -----------------------------------------------------------------------------
def auth_client(host: str, port: int, secret: bytes, messages: list[bytes], *,
                variant: str = auth.DEFAULT_VARIANT, nodelay: bool | None = None,
                appio: AppIOWriter | None = None, timeout: float = 10.0) -> list[bytes]:
    """Read the challenge, answer it, then chat: return the upper-cased replies.
    AuthRejected when the server closes instead of answering the first message."""
    conn = connect(host, port, timeout=timeout, nodelay=nodelay, appio=appio)
    try:
        challenge = conn.recv_exact(auth.CHALLENGE_SIZE)
        if len(challenge) != auth.CHALLENGE_SIZE:
            raise LabProtocolError(f"short challenge ({len(challenge)} bytes)")
        codec = auth.Connection(CLIENT, variant=variant)
        secret = secret.encode() if isinstance(secret, str) else bytes(secret)
        conn.send_all(codec.send(auth.Answer(auth.compute_answer(secret, challenge, variant), variant)))
        replies = []
        for msg in messages:
            try:
                conn.send_all(codec.send(auth.Text(msg)))
                reply = conn.recv_exact(len(msg))
            except (BrokenPipeError, ConnectionResetError):
                reply = b""
            if len(reply) < len(msg):
                raise AuthRejected("the server closed the connection: answer rejected")
            replies.append(reply)
        if not messages:   # no chat to prove acceptance: see whether the server hangs up
            conn.settimeout(0.5)
            try:
                if conn.recv(1) == b"":
                    raise AuthRejected("the server closed the connection: answer rejected")
            except socket.timeout:
                pass
        conn.shutdown_write()
        return replies
    finally:
        conn.close()


# --- bigreply -------------------------------------------------------------------------
def bigreply_client(host: str, port: int, names: list[str], *, naive: bool = False,
                    recv_size: int = 1024, nodelay: bool | None = None,
                    appio: AppIOWriter | None = None, timeout: float = 10.0,
                    naive_timeout: float = 0.5) -> list[bytes]:
    """Request each report; return each whole reply (header line + body, or the ERROR line).

    naive=True: one recv(recv_size) per request is taken as "the reply" (the classroom bug:
    the rest of a big reply is read as the answer to the next request)."""
    conn = connect(host, port, timeout=timeout, nodelay=nodelay, appio=appio)
    codec = bigreply.Connection(CLIENT)
    replies: list[bytes] = []
    try:
        for name in names:
            conn.send_all(codec.send(bigreply.Request(name)))
            if naive:
                replies.append(_naive_read(conn, recv_size, naive_timeout))
                continue
            parts: list[bytes] = []
            done = False
            while not done:
                data = conn.recv(READ_SIZE)
                if not data:
                    raise LabProtocolError("server closed inside a reply")
                try:
                    events = codec.receive_data(data)
                except RemoteProtocolError as exc:
                    raise LabProtocolError(f"bad reply from the bigreply server: {exc}") from None
                for ev in events:
                    parts.append(_reply_bytes(ev))
                    done = done or ev.end_of_message
            replies.append(b"".join(parts))
        conn.shutdown_write()
        return replies
    finally:
        conn.close()


def _reply_bytes(ev) -> bytes:
    if isinstance(ev, bigreply.ReportHeader):
        return f"REPORT {ev.name} {ev.nbytes}\n".encode("ascii")
    if isinstance(ev, bigreply.Error):
        return f"ERROR {ev.reason}\n".encode("ascii")
    return ev.data


# --- udpecho --------------------------------------------------------------------------
def udpecho_client(host: str, port: int, messages: list[bytes], *, timeout: float = 2.0,
                   appio: AppIOWriter | None = None) -> list[bytes | None]:
    """Send each datagram and wait for its echo; None for a datagram whose echo was lost."""
    sock = socket.socket(family_of(host), socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    codec = udpecho.Connection(CLIENT)
    replies: list[bytes | None] = []
    try:
        sock.connect((host, port))
        me, server = addr_text(sock.getsockname()), addr_text((host, port))
        sent = received = 0
        for msg in messages:
            sock.send(codec.send(udpecho.Datagram(msg)))
            if appio is not None:
                appio.record(client=me, server=server, side="client", op="send", direction="c2s",
                             offset=sent, length=len(msg), transport="udp")
            sent += len(msg)
            try:
                data = sock.recv(65535)
            except (socket.timeout, ConnectionRefusedError):
                replies.append(None)
                continue
            if appio is not None:
                appio.record(client=me, server=server, side="client", op="recv", direction="s2c",
                             offset=received, length=len(data), transport="udp")
            received += len(data)
            replies.append(data)
        return replies
    finally:
        sock.close()
