"""Shared base of every wirelab codec (the h11 style: protocol objects do no I/O).

Contract every codec module follows
-----------------------------------
* A codec exposes a `Connection` class:  `Connection(our_role, **options)`.
  - `our_role` is CLIENT or SERVER: the side *we* play.  `receive_data()` decodes what the
    PEER sends; `send(event)` encodes what WE send.  So the analyzer decodes client->server
    bytes with `Connection(SERVER)` and server->client bytes with `Connection(CLIENT)`.
  - `receive_data(data: bytes) -> list[Event]`: feed any chunk of the byte stream (split
    anywhere, even one byte at a time); returns the events completed so far, in order.
    `receive_data(b"")` means end of stream: the codec flushes what it can, and raises
    RemoteProtocolError if the stream ended inside a message.
  - `send(event) -> bytes`: encode one event.  Misuse raises LocalProtocolError.
  - Any bad peer input raises RemoteProtocolError and nothing else.  Any other exception is a
    bug.  After a RemoteProtocolError the Connection is dead (further calls raise it again).
  - Every buffer and length has a maximum (constructor options; defaults MAX_FRAME, MAX_HEADER)
    and a length prefix is checked against it *before* anything is allocated.
* Events are small frozen dataclasses with slots.  Every event has:
  - `wire_length: int`  number of stream bytes this event consumed (may be 0),
  - `end_of_message: bool`  True when this event completes one application message.
  One application message = the consecutive events up to and including one whose
  end_of_message is True.  The analyzer uses exactly these two attributes to map messages to
  the packets that carried them, so sum(wire_length) over the events == bytes consumed.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

MAX_FRAME = 16 * 1024 * 1024  # default largest length-prefixed frame (16 MiB)
MAX_HEADER = 64 * 1024  # default largest JSON header (64 KiB)


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"

    @property
    def peer(self) -> "Role":
        return Role.SERVER if self is Role.CLIENT else Role.CLIENT


CLIENT = Role.CLIENT
SERVER = Role.SERVER


class ProtocolError(Exception):
    """Base of the codec errors."""


class LocalProtocolError(ProtocolError):
    """The caller misused the codec (e.g. sent an event that cannot be encoded)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that violate the protocol."""


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of every codec event (see the module docstring)."""

    @property
    def wire_length(self) -> int:  # overridden by a field or property in subclasses
        raise NotImplementedError

    @property
    def end_of_message(self) -> bool:
        return True

    # --- what a view shows (every codec event overrides these) ---
    def summary(self) -> str:
        """One short line for a packet list / message list, e.g. "len=5 'hello'"."""
        return type(self).__name__

    def fields(self) -> dict:
        """The decoded fields as a plain dict (for a detail tree or JSON)."""
        return {}


@dataclass(frozen=True, slots=True)
class DataEvent(Event):
    """An event whose bytes are exactly the stream bytes it consumed."""

    data: bytes

    @property
    def wire_length(self) -> int:
        return len(self.data)
