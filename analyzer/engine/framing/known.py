"""Checking a framing already found on a port (by an earlier conversation) against a new
conversation's bytes, one stream piece at a time as the pieces arrive: each piece is cut once
by the codec the conversation will be cut with (dissectors.framed), nothing is joined or
re-scored from the start, and the check is sure as soon as the evidence is enough.

    check = KnownFramingCheck(port_results)      # (c2s, s2c) DirectionResults of the port
    check.feed(pending, limit)   # True: sure; False: not yet; check.contradicted: never

Sure: no direction contradicts its framing (a header that cannot be a length, a message
longer than the maximum, no delimiter in a maximum-size message); MIN_MESSAGES complete
messages in all, or one that ends exactly where the sender's bytes so far end (its segments
agree); and every direction with bytes explains them (its complete messages and the one
begun) with the confidence a finding needs on its own (THRESHOLD: the structure of the
messages, and the sender's segment ends agreeing with their ends; see
analyzer.engine.framing.infer.confidence_alone).
"""
from __future__ import annotations

from dissectors.base import SERVER, ProtocolError
from dissectors.framed import Connection

from analyzer.engine.framing.infer import THRESHOLD, confidence_alone

MIN_MESSAGES = 2        # complete messages in all (or one ending where the bytes end)


class KnownFramingCheck:
    """The incremental check of one conversation (see the module docstring)."""

    __slots__ = ("framings", "codecs", "ends", "pushes", "have", "used", "stopped",
                 "contradicted", "next_sure")

    def __init__(self, results) -> None:
        self.framings = [r.framing for r in results]
        self.codecs = [None if f is None else Connection(SERVER, framing=f)
                       for f in self.framings]
        self.ends: list[list[int]] = [[], []]       # message ends (stream offsets)
        self.pushes: list[list[int]] = [[], []]     # where the sender's segments ended
        self.have = [0, 0]                          # contiguous bytes fed per direction
        self.used = 0                               # pending pieces already fed
        self.stopped = [False, False]               # a gap, or the byte limit, was reached
        self.contradicted = False
        self.next_sure = 1                          # messages in all at the next weighing

    def feed(self, pending: list, limit: int) -> bool:
        """Feed the pieces of `pending` ((direction, offset, packet, start, data); start < 0:
        a gap) not fed yet, up to `limit` bytes a direction; True when sure."""
        if self.contradicted:
            return False
        new = pending[self.used:]
        self.used = len(pending)
        for direction, off, _packet, start, data in new:
            if self.stopped[direction]:
                continue
            if start < 0 or off != self.have[direction] or self.have[direction] >= limit:
                self.stopped[direction] = True
                continue
            self._piece(direction, data[: limit - self.have[direction]])
            if self.contradicted:
                return False
        messages = len(self.ends[0]) + len(self.ends[1])
        if messages < self.next_sure:
            return False
        # weighed at every message up to 64, then every quarter more: O(n log n) in all
        self.next_sure = messages + 1 + (messages // 4 if messages > 64 else 0)
        return self.sure()

    def _piece(self, direction: int, data: bytes) -> None:
        """Cut one piece."""
        self.have[direction] += len(data)
        self.pushes[direction].append(self.have[direction])
        codec = self.codecs[direction]
        if codec is None:
            return
        try:
            sizes = codec.receive_sizes(data)
        except ProtocolError:
            self.contradicted = True
            return
        ends = self.ends[direction]
        end = ends[-1] if ends else 0
        for n in sizes:
            end += n
            ends.append(end)

    def sure(self) -> bool:
        """MIN_MESSAGES in all, or one whose end is where the sender's bytes so far end; and
        every direction with bytes sure on its own."""
        if self.contradicted:
            return False
        ends, have = self.ends, self.have
        if len(ends[0]) + len(ends[1]) < MIN_MESSAGES and not any(
                e and e[-1] == h for e, h in zip(ends, have)):
            return False
        return all(self._direction_sure(d) for d in (0, 1))

    def _direction_sure(self, direction: int) -> bool:
        codec = self.codecs[direction]
        if codec is None or not self.have[direction]:
            return True                 # no framing known for it, or nothing sent yet
        ends = self.ends[direction]
        open_length = codec.open_length()
        open_end = None if open_length is None else (ends[-1] if ends else 0) + open_length
        if not ends and open_end is None:
            return False
        return confidence_alone(self.framings[direction], ends, open_end,
                                self.pushes[direction]) >= THRESHOLD
