"""Every conversation's state, in order of first packet (`ConvTable`), and the same looked up
by (transport, id) (`ConvTable.by_key`).  An entry is a live ConvState or a PackedConv
(analyzer.engine.retired); readers always get a ConvState: packed ones are unpacked on
access (the last few are kept)."""
from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence

from analyzer.engine.conv_state import ConvState
from analyzer.engine.retired import PackedConv, unpack

_UNPACKED_KEPT = 64


class ConvTable:
    """Conversation states by position (order of first packet); see the module docstring.
    A Sequence (registered as one: a C class in the compiled twin, whose engine appends,
    looks up and packs through C calls)."""

    __slots__ = ("entries", "_position", "_unpacked", "by_key")

    def __init__(self) -> None:
        self.entries: list[ConvState | PackedConv] = []
        self._position = {"tcp": array("I"), "udp": array("I")}    # id -> position
        self._unpacked: dict[int, ConvState] = {}
        self.by_key = ConvKeys(self)

    def append(self, cs: ConvState) -> int:
        """Add a new conversation (ids come in order per transport); its position."""
        pos = len(self.entries)
        self.entries.append(cs)
        self._position[cs.transport].append(pos)
        return pos

    def put(self, pos: int, entry: ConvState | PackedConv) -> None:
        """Replace the entry at `pos` (packed, or back in use)."""
        self.entries[pos] = entry
        self._unpacked.pop(pos, None)

    def position_of(self, transport: str, cid: int) -> int | None:
        positions = self._position.get(transport)
        return positions[cid] if positions is not None and 0 <= cid < len(positions) else None

    def live(self) -> Iterator[ConvState]:
        """The conversations not packed."""
        return (e for e in self.entries if type(e) is ConvState)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, pos):
        if isinstance(pos, slice):
            return [self[k] for k in range(*pos.indices(len(self.entries)))]
        entry = self.entries[pos]
        if type(entry) is ConvState:
            return entry
        if pos < 0:
            pos += len(self.entries)
        cs = self._unpacked.get(pos)
        if cs is None:
            cs = unpack(entry)
            if len(self._unpacked) >= _UNPACKED_KEPT:
                self._unpacked.pop(next(iter(self._unpacked)))
            self._unpacked[pos] = cs
        return cs

    def __iter__(self) -> Iterator[ConvState]:
        for pos in range(len(self.entries)):
            yield self[pos]


Sequence.register(ConvTable)


class ConvKeys:
    """ConvTable by (transport, id), dict-like for reading."""

    __slots__ = ("_table",)

    def __init__(self, table: ConvTable) -> None:
        self._table = table

    def get(self, key, default=None) -> ConvState | None:
        pos = self._table.position_of(*key)
        return default if pos is None else self._table[pos]

    def __getitem__(self, key) -> ConvState:
        pos = self._table.position_of(*key)
        if pos is None:
            raise KeyError(key)
        return self._table[pos]

    def __contains__(self, key) -> bool:
        return self._table.position_of(*key) is not None

    def __len__(self) -> int:
        return len(self._table)

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
