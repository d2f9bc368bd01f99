"""Cutting one direction's reassembled bytes into application messages, mapped to packets.

A `MessageMapper` receives the in-order stream of one direction (from analyzer.reassembly:
`data(offset, packet, start, bytes)` and `gap(offset, length)`) and cuts it into messages in
one of three ways:

* codec mode: the bytes go to a dissectors codec (`Connection.receive_data`); one message =
  the events up to one whose `end_of_message` is True, its length = the sum of their
  `wire_length`.  A RemoteProtocolError marks the message malformed, and the rest of that
  direction becomes that one malformed message (a framed stream cannot be resynchronised).
* boundary mode (chat with a sidecar): the sender's send() records give the exact
  boundaries; bytes outside any record become messages of their own at the next boundary.
* no codec: no messages (the protocol is unknown).

Every message knows the packets that carried its bytes (`Message.packets`, stream order).
A gap ("[N bytes missing]") ends a framed direction the same way as a codec error; an
unframed one (chat, boundary mode) restarts after the gap with the interrupted message
marked malformed.

UDP does not come through here: each datagram is one message (see `datagram_message`).
"""
from __future__ import annotations

from collections import deque
from typing import Callable

from analyzer.engine import Message
from dissectors.base import ProtocolError, RemoteProtocolError

PREVIEW = 32


def _preview(data: bytes, limit: int = PREVIEW) -> str:
    text = repr(bytes(data[:limit]))[1:]
    return text + ("..." if len(data) > limit else "")


def missing_text(length: int) -> str:
    return f"[{length} bytes missing]"


class MessageMapper:
    """One direction of one conversation: stream bytes in, `Message`s out (via `emit`)."""

    __slots__ = ("conv_id", "direction", "protocol", "codec", "emit", "resync", "boundaries",
                 "msg_start", "pos", "fed_end", "chunks", "events", "dead", "tail_packets",
                 "preview", "codec_factory", "bidx")

    def __init__(self, conv_id: int, direction: str, emit: Callable[[Message], None],
                 protocol: str | None = None, codec_factory: Callable[[], object] | None = None,
                 boundaries: list[tuple[int, int]] | None = None, resync: bool = False):
        self.conv_id = conv_id
        self.direction = direction
        self.emit = emit
        self.protocol = protocol
        self.codec_factory = codec_factory
        self.codec = codec_factory() if codec_factory is not None else None
        self.resync = resync or boundaries is not None
        self.boundaries = sorted(boundaries) if boundaries is not None else None
        self.bidx = 0
        self.msg_start = 0      # stream offset where the current message starts
        self.pos = 0            # stream offset consumed by completed events
        self.fed_end = 0        # stream offset after the last byte fed
        self.chunks: deque = deque()   # [offset, end, packet] not yet wholly in messages
        self.events: list = []  # events of the current message
        self.dead: str | None = None   # codec error / gap reason: the rest is one message
        self.tail_packets: list[int] = []
        self.preview = bytearray()     # first bytes of the current message (boundary mode)

    @property
    def active(self) -> bool:
        return self.codec is not None or self.boundaries is not None

    # -- input from the reassembler ------------------------------------------------------
    def data(self, offset: int, packet: int, start: int, data: bytes) -> None:
        end = offset + len(data)
        self.fed_end = end
        if self.dead is not None:
            if not self.tail_packets or self.tail_packets[-1] != packet:
                self.tail_packets.append(packet)
            return
        if not self.active:
            return
        self.chunks.append([offset, end, packet])
        if self.boundaries is not None:
            self._boundary_data(offset, data)
            return
        try:
            events = self.codec.receive_data(data)
        except ProtocolError as exc:
            self._die(str(exc) or type(exc).__name__)
            return
        self._take(events)

    def gap(self, offset: int, length: int) -> None:
        self.fed_end = offset + length
        if not self.active:
            return
        reason = f"{missing_text(length)} at offset {offset}"
        if self.dead is not None:
            return
        if self.resync:
            # unframed: the interrupted message is malformed, a fresh reader starts after it
            if offset > self.msg_start:
                self._message(self.msg_start, offset, malformed=reason, summary=reason)
            self.msg_start = self.pos = offset + length
            self.chunks.clear()
            self.events = []
            self.preview = bytearray()
            if self.codec_factory is not None:
                self.codec = self.codec_factory()
            return
        self._die(reason)

    def finish(self) -> None:
        """End of stream: flush the codec (EOF); what is left becomes the last message."""
        if not self.active:
            return
        if self.dead is None and self.boundaries is not None:
            if self.fed_end > self.msg_start:
                self._message(self.msg_start, self.fed_end, summary=_preview(self.preview))
            return
        if self.dead is None:
            try:
                self._take(self.codec.receive_data(b""))
            except ProtocolError as exc:
                self._die(str(exc) or "stream ended inside a message")
        if self.dead is None and self.fed_end > self.msg_start:
            self._die("stream ended inside a message")
        if self.dead is not None and self.fed_end > self.msg_start:
            packets = self._packets_until(self.fed_end)
            for p in self.tail_packets:
                if not packets or packets[-1] != p:
                    packets.append(p)
            self.tail_packets = []
            self._emit(self.msg_start, self.fed_end, packets, self.dead, f"malformed: {self.dead}", {})
            self.msg_start = self.fed_end

    # -- internals -----------------------------------------------------------------------
    def _die(self, reason: str) -> None:
        self.dead = reason

    def _take(self, events) -> None:
        for ev in events:
            self.pos += ev.wire_length
            self.events.append(ev)
            if ev.end_of_message:
                evs, self.events = self.events, []
                self._message(self.msg_start, self.pos, events=evs)

    def _boundary_data(self, offset: int, data: bytes) -> None:
        b = self.boundaries
        if len(self.preview) < PREVIEW + 1:
            self.preview += data[: PREVIEW + 1 - len(self.preview)]
        # close every message whose end has arrived
        while True:
            while self.bidx < len(b) and b[self.bidx][0] + b[self.bidx][1] <= self.msg_start:
                self.bidx += 1              # records already passed (duplicates, overlaps)
            if self.bidx < len(b):
                s_off, s_len = b[self.bidx]
                cut = s_off if s_off > self.msg_start else s_off + s_len
            else:
                return
            if cut > self.fed_end or cut <= self.msg_start:
                return
            start = self.msg_start
            taken = cut - start
            self._message(start, cut, summary=_preview(self.preview[:taken]) if taken <= PREVIEW
                          else _preview(self.preview))
            # preview of the next message: the bytes after `cut` in this chunk
            rel = cut - offset
            self.preview = bytearray(data[rel: rel + PREVIEW + 1]) if rel >= 0 else bytearray()

    def _packets_until(self, end: int) -> list[int]:
        out: list[int] = []
        chunks = self.chunks
        start = self.msg_start
        for c in chunks:
            if c[0] >= end:
                break
            if c[1] > start and (not out or out[-1] != c[2]):
                out.append(c[2])
        while chunks and chunks[0][1] <= end:
            chunks.popleft()
        return out

    def _message(self, start: int, end: int, events=None, malformed: str | None = None,
                 summary: str = "") -> None:
        packets = self._packets_until(end) if end > start else []
        fields: dict = {}
        if events:
            parts = []
            for ev in events:
                try:
                    parts.append(ev.summary())
                    f = ev.fields()
                    if f:
                        fields.update(f)
                except Exception:  # a view helper must never stop the analysis
                    pass
            summary = " ".join(p for p in parts if p)[:160]
        self._emit(start, end, packets, malformed, summary, fields)
        self.msg_start = end
        if self.boundaries is None:
            self.pos = max(self.pos, end)

    def _emit(self, start: int, end: int, packets: list[int], malformed, summary: str, fields: dict) -> None:
        self.emit(Message(self.conv_id, -1, self.direction, start, end - start, packets,
                          self.protocol or "data", summary, malformed, fields))


def datagram_message(conv_id: int, direction: str, packet: int, data: bytes,
                     protocol: str | None, codec_factory: Callable[[], object] | None) -> Message:
    """One UDP datagram = one message: decoded alone by a fresh codec."""
    summary, fields, malformed = _preview(data), {}, None
    if codec_factory is not None:
        try:
            codec = codec_factory()
            events = list(codec.receive_data(data)) + list(codec.receive_data(b""))
            parts = [ev.summary() for ev in events]
            for ev in events:
                fields.update(ev.fields() or {})
            summary = " ".join(p for p in parts if p)[:160] or summary
        except RemoteProtocolError as exc:
            malformed = str(exc) or "malformed datagram"
            summary = f"malformed: {malformed}"
        except ProtocolError as exc:
            malformed = str(exc)
    return Message(conv_id, -1, direction, 0, len(data), [packet], protocol or "data",
                   summary, malformed, fields)
