"""Cutting one direction's reassembled bytes into application messages, mapped to packets.

A `MessageMapper` receives the in-order stream of one direction (from analyzer.transport.reassembly:
`data(offset, packet, start, bytes)` and `gap(offset, length)`) and cuts it into messages in
one of three ways:

* codec mode: the bytes go to a dissectors codec (`Connection.receive_data`); one message =
  the events up to one whose `end_of_message` is True, its length = the sum of their
  `wire_length`.  A RemoteProtocolError marks the message malformed, and the rest of that
  direction becomes that one malformed message (a framed stream cannot be resynchronised).
* boundary mode (chat with a sidecar): the sender's send() records give the exact
  boundaries; bytes outside any record become messages of their own at the next boundary.
* no codec: no messages (the protocol is unknown).

Each message goes into the conversation's state as `conv.add_message(direction, start, end,
packets, malformed)` (analyzer.engine.conv_state): stream offsets [start, end),
the packets that carried its bytes (stream order), and a reason when malformed.  Nothing
else is kept: summaries and fields are decoded again from the bytes when a view asks
(`describe`), so a million messages cost a few compact array entries each.

A gap ("[N bytes missing]") ends a framed direction the same way as a codec error; an
unframed one (chat, boundary mode) restarts after the gap with the interrupted message
marked malformed.  UDP does not come through here: each datagram is one message
(`describe` decodes it alone).
"""
from __future__ import annotations

from typing import Callable

from dissectors.base import ProtocolError

PREVIEW = 32


def preview(data: bytes, limit: int = PREVIEW) -> str:
    """'hello\\n'... : a short quoted preview of bytes."""
    text = repr(bytes(data[:limit]))[1:]
    return text + ("..." if len(data) > limit else "")


def missing_text(length: int) -> str:
    return f"[{length} bytes missing]"


class MessageMapper:
    """One direction of one conversation: stream bytes in, messages out (into `conv`)."""

    __slots__ = ("conv", "direction", "codec", "codec_factory", "resync", "boundaries", "bidx",
                 "msg_start", "pos", "fed_end", "chunks", "dead", "tail_packets", "sizes",
                 "pending")

    def __init__(self, conv, direction: int,
                 codec_factory: Callable[[], object] | None = None,
                 boundaries: list[tuple[int, int]] | None = None, resync: bool = False):
        self.conv = conv                # a ConvState: add_message(direction, ...)
        self.direction = direction
        self.codec_factory = codec_factory
        # codec mode: the codec is made when the first byte comes (many conversations bring
        # none: a port scan, a handshake and a teardown); `pending` until then
        self.pending = codec_factory is not None and boundaries is None
        self.codec = None
        self.resync = resync or boundaries is not None
        self.boundaries = sorted(boundaries) if boundaries is not None else None
        self.bidx = 0
        self.msg_start = 0      # stream offset where the current message starts
        self.pos = 0            # stream offset consumed by completed events
        self.fed_end = 0        # stream offset after the last byte fed
        self.chunks: list = []         # (offset, end, packet) not yet wholly in messages
        self.dead: str | None = None   # codec error / gap reason: the rest is one message
        self.tail_packets: list[int] = []
        self.sizes = None

    @property
    def active(self) -> bool:
        return self.codec is not None or self.pending or self.boundaries is not None

    def _make_codec(self) -> None:
        self.codec = self.codec_factory()
        self.pending = False
        # a codec whose every event ends a message may offer receive_sizes(data, start, stop)
        # -> the wire lengths only (dissectors.lenmsg): no event objects on the hot path
        self.sizes = getattr(self.codec, "receive_sizes", None)

    # -- input from the reassembler ------------------------------------------------------
    def data(self, offset: int, packet: int, start: int, data: bytes) -> None:
        self.data_in(offset, packet, data, 0, len(data))

    def data_in(self, offset: int, packet: int, buf: bytes, lo: int, hi: int) -> None:
        """data() of the bytes buf[lo:hi] (the engine's packet loop hands a frame and where its
        payload lies: a codec reading wire lengths in place needs no copy of them)."""
        end = offset + hi - lo
        self.fed_end = end
        if self.dead is not None:
            if not self.tail_packets or self.tail_packets[-1] != packet:
                self.tail_packets.append(packet)
            return
        if self.codec is None:
            if not self.pending:
                if self.boundaries is not None:
                    self.chunks.append((offset, end, packet))
                    self._boundary_data()
                return
            self._make_codec()
        chunks = self.chunks
        # no earlier bytes wait for their message's end: this chunk goes into `chunks` only if
        # a message is left open in it (most segments bring whole messages)
        alone = not chunks and end > offset
        if not alone:
            chunks.append((offset, end, packet))
        reader = self.sizes
        sizes = events = ends = None
        try:
            if reader is not None:
                sizes = reader(buf, lo, hi)
            else:
                events = self.codec.receive_data(buf[lo:hi])
        except ProtocolError as exc:
            self.dead = str(exc) or type(exc).__name__
            sizes = events = None
        except Exception as exc:  # a codec bug must not stop the analysis of the rest
            self.dead = f"decoder failed: {type(exc).__name__}: {exc}"
            sizes = events = None
        if events:                      # events: their wire lengths, some end a message
            sizes = [ev.wire_length for ev in events]
            ends = [ev.end_of_message for ev in events]
        elif sizes is None:             # no event, or the codec failed: no message ends here
            sizes = []
        # (else the codec gave wire lengths only, each ends a message)
        # _take + _message inlined: this runs once per message of the capture
        pos = self.pos
        conv, direction = self.conv, self.direction
        for k in range(len(sizes)):
            pos += sizes[k]
            if ends is None or ends[k]:
                ms = self.msg_start
                if pos > ms and alone and end > ms:         # all in this packet
                    conv.add_whole(direction, ms, pos, packet)
                elif pos > ms and not alone and len(chunks) == 1:
                    c = chunks[0]
                    if c[1] <= pos:
                        chunks.clear()
                    if c[1] > ms:
                        conv.add_whole(direction, ms, pos, c[2])
                    else:
                        conv.add_message(direction, ms, pos, [], None)
                else:
                    packets = [] if pos <= ms or alone else self._packets_until(pos)
                    conv.add_message(direction, ms, pos, packets, None)
                self.msg_start = pos
        self.pos = pos
        if alone and self.msg_start < end:      # a message left open here
            chunks.append((offset, end, packet))

    def gap(self, offset: int, length: int) -> None:
        self.fed_end = offset + length
        if not self.active or self.dead is not None:
            return
        reason = f"{missing_text(length)} at offset {offset}"
        if self.resync:
            # unframed: the interrupted message is malformed, a fresh reader starts after it
            if offset > self.msg_start:
                self._message(self.msg_start, offset, reason)
            self.msg_start = self.pos = offset + length
            self.chunks.clear()
            if self.codec is not None:          # a fresh codec for the next byte
                self.codec = self.sizes = None
                self.pending = True
            return
        self.dead = reason

    def finish(self) -> None:
        """End of stream: flush the codec (EOF); what is left becomes the last message."""
        if not self.active:
            return
        if self.dead is None and self.boundaries is not None:
            if self.fed_end > self.msg_start:
                self._message(self.msg_start, self.fed_end)
            return
        if self.dead is None and self.codec is not None:
            try:
                self._take(self.codec.receive_data(b""))
            except ProtocolError as exc:
                self.dead = str(exc) or "stream ended inside a message"
            except Exception as exc:  # a codec bug must not stop the analysis
                self.dead = f"decoder failed: {type(exc).__name__}: {exc}"
        if self.dead is None and self.fed_end > self.msg_start:
            self.dead = "stream ended inside a message"
        if self.dead is not None and self.fed_end > self.msg_start:
            packets = self._packets_until(self.fed_end)
            for p in self.tail_packets:
                if not packets or packets[-1] != p:
                    packets.append(p)
            self.tail_packets = []
            self.conv.add_message(self.direction, self.msg_start, self.fed_end, packets,
                                  self.dead)
            self.msg_start = self.fed_end
        self.codec = None
        self.pending = False

    # -- internals -----------------------------------------------------------------------
    def _take(self, events) -> None:
        pos = self.pos
        for ev in events:
            pos += ev.wire_length
            if ev.end_of_message:
                self.pos = pos
                self._message(self.msg_start, pos)
        self.pos = pos

    def _boundary_data(self) -> None:
        b = self.boundaries
        while True:
            while self.bidx < len(b) and b[self.bidx][0] + b[self.bidx][1] <= self.msg_start:
                self.bidx += 1              # records already passed (duplicates, overlaps)
            if self.bidx >= len(b):
                return
            s_off, s_len = b[self.bidx]
            cut = s_off if s_off > self.msg_start else s_off + s_len
            if cut > self.fed_end or cut <= self.msg_start:
                return
            self._message(self.msg_start, cut)

    def _packets_until(self, end: int) -> list[int]:
        chunks = self.chunks
        start = self.msg_start
        if len(chunks) == 1:               # the common case: the message is in one chunk
            c = chunks[0]
            if c[1] <= end:
                chunks.clear()
            return [c[2]] if c[1] > start else []
        out: list[int] = []
        for c in chunks:
            if c[0] >= end:
                break
            if c[1] > start and (not out or out[-1] != c[2]):
                out.append(c[2])
        k = 0
        while k < len(chunks) and chunks[k][1] <= end:
            k += 1
        if k:
            del chunks[:k]
        return out

    def _message(self, start: int, end: int, malformed: str | None = None) -> None:
        chunks = self.chunks
        if len(chunks) == 1 and end > start:     # fast path: the message is in one chunk
            c = chunks[0]
            if c[1] <= end:
                chunks.clear()
            packets = [c[2]] if c[1] > start else []
        else:
            packets = self._packets_until(end) if end > start else []
        self.conv.add_message(self.direction, start, end, packets, malformed)
        self.msg_start = end


def describe(codec, data: bytes, skip: int = 0) -> tuple[str, dict, str | None]:
    """(summary, fields, error) of the message(s) in `data`, decoded by a fresh `codec`.

    `skip`: bytes of `data` that precede the message (a replay from the stream start for
    stateful codecs); events ending inside them are ignored."""
    parts: list[str] = []
    fields: dict = {}
    error = None
    events: list = []
    try:
        events = list(codec.receive_data(data))
        events += list(codec.receive_data(b""))
    except ProtocolError as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:  # a codec bug: describe what we can
        error = f"decoder failed: {type(exc).__name__}: {exc}"
    pos = 0
    for ev in events:
        pos += ev.wire_length
        if pos <= skip:
            continue
        try:
            parts.append(ev.summary())
            fields.update(ev.fields() or {})
        except Exception:  # a view helper must never break the caller
            pass
    summary = " ".join(p for p in parts if p)[:160]
    if not summary:
        summary = preview(data[skip:])
    return summary, fields, error

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
