"""The compact state the engine keeps per conversation (ConvState: messages in arrays, the
reassemblers and message cutters of both directions) and the lazy sequence that
Conversation.messages is (MessageList)."""
from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Callable

from analyzer.engine.constants import DIRS
from analyzer.engine.types import Message
from dissectors.arrays import BYTES, LONGS, UINTS
from dissectors.arrays import append, new_empty  # the twin cimports it (setup.py)


def conv_analysis(flow_counts: dict, own: dict) -> dict:
    """A conversation's analysis counts: its flow's, raised to what the engine counted itself
    (message-level findings)."""
    analysis = dict(flow_counts)
    for k, v in own.items():
        analysis[k] = max(analysis.get(k, 0), v)
    return analysis


def malformed_texts(bad: dict, m_dir, m_off) -> list[str]:
    """A conversation's "malformed" lines ("c2s message 3 at offset 120: why"), in message
    order, from its malformed messages {index: why} and message arrays."""
    return [f"{DIRS[m_dir[i]]} message {i} at offset {m_off[i]}: {why}"
            for i, why in sorted(bad.items())]


# --- per-conversation analysis state ------------------------------------------------------
class ConvState:
    """Everything the engine keeps per conversation.  Messages live in compact arrays:
    conversation-wide m_dir/m_off/m_len/m_pk (start of its packets in `pk`), and per
    direction d_key (stream offset for TCP, packet number for UDP) + d_idx for lookups."""

    __slots__ = ("flow", "transport", "id", "protocol", "options", "spec", "reasm", "mappers",
                 "m_dir", "m_off", "m_len", "m_pk", "pk", "d_key", "d_idx", "m_bad",
                 "coalesced", "last_pkt", "udp_bytes", "probe_buf",
                 "probe_pending", "decided", "version", "cache", "own", "pkts")

    def __init__(self, flow):
        self.flow = flow
        self.transport = flow.transport
        self.id = flow.id
        self.protocol: str | None = None
        self.options: dict = {}
        self.spec = None
        self.reasm: list = [None, None]
        self.mappers: list = [None, None]
        self.m_dir = new_empty(BYTES)
        self.m_off = new_empty(LONGS)
        self.m_len = new_empty(LONGS)
        self.m_pk = new_empty(UINTS)
        self.pk = new_empty(UINTS)
        # UDP: packet number of each message, per direction (TCP: see dir_offsets)
        self.d_key = (array("I"), array("I")) if flow.transport == "udp" else None
        self.d_idx = (new_empty(UINTS), new_empty(UINTS))
        self.m_bad: dict[int, str] = {}
        self.coalesced = new_empty(UINTS)
        self.last_pkt = [0, 0]                       # last packet of the previous message
        self.udp_bytes = [0, 0]
        self.probe_buf = [bytearray(), bytearray()]
        self.probe_pending: list = []                # (direction, off, packet, start, data)
        self.decided = False
        self.version = 0
        self.cache = None                            # (version, Conversation)
        self.own: dict[str, int] = {}                # counts of the engine's own analysis bits
        self.pkts = new_empty(UINTS)                 # TCP: every packet, to feed them again

    def add_message(self, direction: int, start: int, end: int, packets, malformed) -> int:
        """Message [start, end) of one direction's stream, carried by `packets` (stream
        order), malformed for the reason given (or None); returns its index."""
        if len(packets) == 1:
            i = self.add_whole(direction, start, end, packets[0])
        else:
            i = self._new_message(direction, start, end)
            self.pk.extend(packets)
            if packets:
                self._carried(direction, packets[0], packets[-1])
        if malformed:
            self.m_bad[i] = malformed
        return i

    def add_whole(self, direction: int, start: int, end: int, packet: int) -> int:
        """add_message of a message carried by one packet, not malformed (most messages: the
        message cutter calls this directly, no list made)."""
        i = self._new_message(direction, start, end)
        append(self.pk, packet)
        self._carried(direction, packet, packet)
        return i

    def _new_message(self, direction: int, start: int, end: int) -> int:
        """A message's entries but its packets (which go to `pk` next); returns its index."""
        i = len(self.m_dir)
        append(self.m_dir, direction)
        append(self.m_off, start)
        append(self.m_len, end - start)
        append(self.m_pk, len(self.pk))
        append(self.d_idx[direction], i)
        self.version += 1
        return i

    def _carried(self, direction: int, first: int, last: int) -> None:
        """A message of `direction` carried by packets first..last: a first packet that also
        ended the direction's previous message is coalesced (several messages in it)."""
        ends = self.last_pkt
        if first == ends[direction] and (not self.coalesced or self.coalesced[-1] != first):
            self.coalesced.append(first)
        ends[direction] = last

    def dir_offsets(self, direction: int):
        """Stream offsets of one direction's messages, in order (a view; bisect works)."""
        if self.d_key is not None:
            return self.d_key[direction]
        return OffsetsView(self.m_off, self.d_idx[direction])

    def packets_of(self, i: int) -> list[int]:
        end = self.m_pk[i + 1] if i + 1 < len(self.m_pk) else len(self.pk)
        return self.pk[self.m_pk[i]: end].tolist()

    def packet_count_of(self, i: int) -> int:
        end = self.m_pk[i + 1] if i + 1 < len(self.m_pk) else len(self.pk)
        return end - self.m_pk[i]

    @property
    def message_count(self) -> int:
        return len(self.m_dir)

    def split_count(self) -> int:
        starts = self.m_pk
        n = len(starts)
        if not n:
            return 0
        total = len(self.pk)
        return sum(1 for i in range(n)
                   if (starts[i + 1] if i + 1 < n else total) - starts[i] > 1)


class OffsetsView:
    """m_off[idx[j]] as a read-only sequence (bisect-able) without copying."""

    __slots__ = ("_off", "_idx")

    def __init__(self, off, idx):
        self._off, self._idx = off, idx

    def __len__(self) -> int:
        return len(self._idx)

    def __getitem__(self, j: int) -> int:
        return self._off[self._idx[j]]


class MessageList(Sequence):
    """The messages of one conversation as a lazy, read-only sequence of Message objects
    (materialised on access, with a small cache).  len() is free."""

    __slots__ = ("_materialise", "_n", "_cache")

    def __init__(self, materialise: Callable[[int], Message], n: int):
        self._materialise, self._n = materialise, n
        self._cache: dict[int, Message] = {}

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("message index out of range")
        m = self._cache.get(i)
        if m is None:
            m = self._materialise(i)
            if len(self._cache) < 4096:
                self._cache[i] = m
        return m

    def __iter__(self):
        for i in range(self._n):
            yield self[i]

    def __eq__(self, other):
        return list(self) == list(other)

    def __repr__(self) -> str:
        return f"<{self._n} messages>"

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
