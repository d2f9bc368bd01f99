"""auth: challenge-response, then chat (port 9003).

Server -> client: 32 random bytes (Challenge), then chat text.
Client -> server: the Answer (size fixed by the variant), then chat text.

    md5-hex      hashlib.md5(secret + challenge).hexdigest() as ASCII   32 bytes
    hmac-md5     hmac.new(secret, challenge, "md5").digest()            16 bytes
    hmac-sha256  hmac.new(secret, challenge, "sha256").digest()         32 bytes (default)

Decoding needs no secret.  Without a variant the decoder guesses from the answer: 32 ASCII
hex digits -> md5-hex, else hmac-sha256 (and exactly 16 bytes then EOF -> hmac-md5).
`compute_answer()` / `verify()` check an answer when the secret is known.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from . import chat
from .base import CLIENT, MAX_FRAME, SERVER, Event, LocalProtocolError, RemoteProtocolError, Role  # noqa: F401
from .base import DataEvent
from ._stream import CodecBase, ReceiveBuffer

CHALLENGE_SIZE = 32
VARIANTS = ("hmac-sha256", "md5-hex", "hmac-md5")
DEFAULT_VARIANT = "hmac-sha256"
ANSWER_SIZE = {"md5-hex": 32, "hmac-md5": 16, "hmac-sha256": 32}
_HEX32 = re.compile(rb"[0-9a-fA-F]{32}\Z")

Text = chat.Text  # after the answer, both directions carry chat


def _check_variant(variant: str) -> str:
    if variant not in ANSWER_SIZE:
        raise LocalProtocolError(f"unknown auth variant {variant!r} ({', '.join(VARIANTS)})")
    return variant


def compute_answer(secret: bytes, challenge: bytes, variant: str = DEFAULT_VARIANT) -> bytes:
    """The answer a legitimate client sends for `challenge`."""
    _check_variant(variant)
    secret, challenge = bytes(secret), bytes(challenge)
    if variant == "md5-hex":
        return hashlib.md5(secret + challenge).hexdigest().encode("ascii")
    if variant == "hmac-md5":
        return hmac.new(secret, challenge, "md5").digest()
    return hmac.new(secret, challenge, "sha256").digest()


def verify(secret: bytes, challenge: bytes, answer: bytes, variant: str = DEFAULT_VARIANT) -> bool:
    """True when `answer` is right for `challenge` (constant-time comparison)."""
    return hmac.compare_digest(compute_answer(secret, challenge, variant), bytes(answer))


@dataclass(frozen=True, slots=True)
class Challenge(DataEvent):
    def summary(self) -> str:
        return f"challenge {self.data[:8].hex()}..."

    def fields(self) -> dict:
        return {"challenge": self.data.hex()}


@dataclass(frozen=True, slots=True)
class Answer(DataEvent):
    variant: str = DEFAULT_VARIANT

    @property
    def end_of_message(self) -> bool:
        return True

    def summary(self) -> str:
        shown = self.data.decode("ascii", "replace") if self.variant == "md5-hex" else self.data.hex()
        return f"answer {self.variant} {shown[:16]}..."

    def fields(self) -> dict:
        return {"variant": self.variant, "answer": self.data.hex()}


class Connection(CodecBase):
    """auth codec.  Options: variant (None = guess when decoding), max_frame (chat part)."""

    def __init__(self, our_role: Role, *, variant: str | None = None, max_frame: int = MAX_FRAME):
        super().__init__()
        self.our_role = our_role
        self.variant = _check_variant(variant) if variant else None
        self._buf = ReceiveBuffer()
        self._chat = chat.Connection(our_role, max_frame=max_frame)
        self._head_done = False          # challenge / answer received from the peer
        self._sent_head = False

    def _head_size(self) -> int:
        if self.our_role is CLIENT:      # the peer (server) sends the challenge
            return CHALLENGE_SIZE
        return ANSWER_SIZE[self.variant] if self.variant else CHALLENGE_SIZE

    def _head_event(self, data: bytes) -> Event:
        if self.our_role is CLIENT:
            return Challenge(data)
        variant = self.variant or ("md5-hex" if _HEX32.match(data) else "hmac-sha256")
        return Answer(data, variant)

    def _receive(self, data: bytes) -> list:
        if self._head_done:
            return self._chat.receive_data(data)
        self._buf.append(data)
        size = self._head_size()
        if len(self._buf) < size:
            return []
        head = self._head_event(self._buf.take(size))
        self._head_done = True
        rest = self._buf.take_all()
        return [head] + (self._chat.receive_data(rest) if rest else [])

    def _eof(self) -> list:
        if self._head_done:
            return self._chat.receive_data(b"")
        have = len(self._buf)
        if not have:
            return []
        if self.our_role is SERVER and self.variant is None and have == ANSWER_SIZE["hmac-md5"]:
            self._head_done = True
            return [Answer(self._buf.take_all(), "hmac-md5")]
        raise RemoteProtocolError(f"stream ended inside the {'challenge' if self.our_role is CLIENT else 'answer'} "
                                  f"({have} of {self._head_size()} bytes)")

    def send(self, event) -> bytes:
        if isinstance(event, Text):
            if not self._sent_head:
                raise LocalProtocolError("chat before the challenge/answer")
            return bytes(event.data)
        if self.our_role is SERVER:
            if not isinstance(event, Challenge) or len(event.data) != CHALLENGE_SIZE:
                raise LocalProtocolError("the server sends a 32-byte Challenge first")
        else:
            if not isinstance(event, Answer):
                raise LocalProtocolError("the client sends an Answer first")
            if len(event.data) != ANSWER_SIZE[_check_variant(event.variant)]:
                raise LocalProtocolError(f"a {event.variant} answer has {ANSWER_SIZE[event.variant]} bytes")
        if self._sent_head:
            raise LocalProtocolError("challenge/answer already sent")
        self._sent_head = True
        return bytes(event.data)


def detect_variant(c2s: bytes, s2c: bytes = b"") -> str | None:
    if len(c2s) >= 32 and _HEX32.match(c2s[:32]):
        return "md5-hex"
    if len(c2s) == 16:
        return "hmac-md5"
    return None


def probe(c2s: bytes, s2c: bytes) -> bool:
    """A 32-byte binary (not text) challenge from the server and an answer from the client."""
    if len(s2c) < CHALLENGE_SIZE or len(c2s) < 16:
        return False
    challenge = s2c[:CHALLENGE_SIZE]
    printable = sum(1 for b in challenge if 32 <= b < 127)
    return printable < 28 and (len(s2c) == CHALLENGE_SIZE or _HEX32.match(c2s[:32]) is not None
                               or len(c2s) >= 16)
