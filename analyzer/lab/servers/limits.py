"""What a TCP reference server allows one connection and all of them together.

Every phase of a connection has a total deadline that trickling bytes cannot extend:
  * between messages (nothing received since the last complete message): `idle_timeout`
    seconds after that message (or after accept);
  * inside a message (a frame, a header, an upload, the auth answer): the message must be
    complete within `message_timeout` seconds of its first byte, plus one second for every
    `min_rate` bytes received in it (so big uploads at a sane rate finish, 1 byte every 5 s
    does not);
  * the auth server speaks first: its answer phase starts at accept.
Past `max_connections` open connections a new one is closed at once (logged); past
`buffer_budget` bytes of partial messages held by all connections together, the connection
whose read would grow the total is closed (the ones already holding data keep it).
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_IDLE_TIMEOUT = 30.0
DEFAULT_MESSAGE_TIMEOUT = 10.0
DEFAULT_MIN_RATE = 16 * 1024             # bytes/s inside a message
DEFAULT_MAX_THREADS = 64
DEFAULT_MAX_CONNECTIONS = 4096
DEFAULT_BUFFER_BUDGET = 64 << 20         # partial-message bytes held by all connections


@dataclass(frozen=True)
class Limits:
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    message_timeout: float = DEFAULT_MESSAGE_TIMEOUT
    min_rate: float = DEFAULT_MIN_RATE
    max_threads: int = DEFAULT_MAX_THREADS
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    buffer_budget: int = DEFAULT_BUFFER_BUDGET

    def __post_init__(self) -> None:
        for name, value in (("idle-timeout", self.idle_timeout), ("message-timeout", self.message_timeout),
                            ("min-rate", self.min_rate)):
            if not 0 < value < float("inf"):
                raise ValueError(f"--{name} must be a positive number, not {value}")
        for name, value in (("max-threads", self.max_threads), ("max-connections", self.max_connections),
                            ("buffer-budget", self.buffer_budget)):
            if value < 1:
                raise ValueError(f"--{name} must be >= 1, not {value}")
