"""Verdicts on the auth protocol's challenge-response exchanges, from the captured bytes.

    checker = AuthChecker(secret)          # secret: bytes, or None when not given
    checker.verdict(eng, conv) -> AuthVerdict | None     (None: not an auth conversation)
    checker_for(eng, secret) -> AuthChecker              the one checker of an engine and secret

accepted   the answer is the digest of the secret and this connection's challenge
rejected   it is not (a wrong secret, or a client that does not know it)
replayed   the same answer bytes were sent earlier on another connection: a recorded answer
           sent again (a fresh challenge per connection makes it worthless)
unchecked  no secret given, or the challenge or answer is not complete in the capture

Every verdict but unchecked needs the secret (a replay could be found from the bytes alone,
but a summary split over processes cannot see the other parts' answers, and the same capture
must give the same JSON either way; with a secret the summary runs in one process).
Conversations are taken in capture order (the engine's `states`), so "earlier" means an
earlier connection.
While a live capture is still running, an answer not yet complete when the checker first
looks at its conversation is not remembered for finding later replays.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

from dissectors import auth as authcodec

NO_SECRET = "no secret given: --secret-file or WIRELAB_SECRET"
VERDICTS = ("accepted", "rejected", "replayed", "unchecked")
MIN_ANSWER = min(authcodec.ANSWER_SIZE.values())


@dataclass(frozen=True, slots=True)
class AuthVerdict:
    verdict: str              # one of VERDICTS
    variant: str | None       # md5-hex / hmac-md5 / hmac-sha256 (None: no answer seen)
    why: str                  # one plain sentence
    answer_packet: int | None  # the packet that completes the client's answer

    def to_json(self) -> dict:
        """The summary JSON's "auth" key (no packet numbers: the parallel summary numbers
        packets per part and renumbers only the contract's packet keys)."""
        return {"verdict": self.verdict, "variant": self.variant, "why": self.why}


@dataclass(frozen=True, slots=True)
class _Exchange:
    challenge: bytes
    answer: bytes             # the client's first bytes (up to the largest answer size)
    variant: str | None
    answer_packet: int | None
    server_went_on: bool      # the server sent more than the challenge


def _first_message(cs, direction: int) -> int | None:
    for i in range(cs.message_count):
        if cs.m_dir[i] == direction:
            return i
    return None


def _exchange(eng, cs) -> _Exchange:
    challenge = eng.stream_bytes(cs, 1, 0, authcodec.CHALLENGE_SIZE)
    answer = eng.stream_bytes(cs, 0, 0, max(authcodec.ANSWER_SIZE.values()))
    s2c_len = eng.stream_bytes(cs, 1, 0, authcodec.CHALLENGE_SIZE + 1)
    variant, packet = cs.options.get("variant"), None
    i = _first_message(cs, 0)
    if i is not None:
        packets = cs.packets_of(i)
        packet = packets[-1] if packets else None
        if variant is None:
            m = eng.message(cs, i)
            variant = m.fields.get("variant") if not m.malformed else None
            if variant is not None:
                answer = answer[:cs.m_len[i]]
    return _Exchange(challenge, answer, variant, packet, len(s2c_len) > authcodec.CHALLENGE_SIZE)


def _size(ex: _Exchange) -> int:
    return authcodec.ANSWER_SIZE.get(ex.variant or "", len(ex.answer))


def _server_hint(ex: _Exchange, cs) -> str:
    if ex.server_went_on:
        return "the server went on talking after the answer"
    td = cs.flow.teardown()
    if td.get("kind") == "rst" and td.get("initiator") == "server":
        return "the server reset the connection after the answer"
    if td.get("kind") != "none" and td.get("initiator") == "server":
        return "the server closed the connection after the answer"
    return "the server sent nothing after the challenge"


class AuthChecker:
    """Verdicts for the auth conversations of one engine; remembers every answer seen."""

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret
        self._first_use: dict[bytes, tuple[int, str]] = {}   # answer -> (position, conv text)
        self._position: dict[tuple[str, int], int] = {}       # conv key -> position seen
        self._scanned = 0                                      # states looked at so far
        self._done: dict[tuple[str, int], AuthVerdict] = {}   # final verdicts (input ended)

    def verdict(self, eng, conv) -> AuthVerdict | None:
        """The verdict of `conv` (a Conversation, ConvState or key); None if not auth."""
        with eng.lock:
            cs = eng.state(conv)
            if not is_auth(cs):
                return None
            key = (cs.transport, cs.id)
            if key in self._done:
                return self._done[key]
            self._scan(eng, cs)
            got = self._judge(eng, cs)
            if eng.finished:
                self._done[key] = got
            return got

    def mark(self, eng, n: int) -> str:
        """' [auth: rejected]' when packet n completes an auth answer, else ''."""
        cs = eng.state_of_packet(n)
        if cs is None or cs.spec is None or cs.spec.name != "auth":
            return ""
        got = self.verdict(eng, cs)
        return f" [auth: {got.verdict}]" if got is not None and got.answer_packet == n else ""

    def _scan(self, eng, upto) -> None:
        """Record the answers of every auth conversation up to `upto`, in capture order."""
        states = eng.states
        while self._scanned < len(states):
            cs = states[self._scanned]
            if cs.spec is not None and cs.spec.name == "auth" and cs.transport == "tcp":
                ex = _exchange(eng, cs)
                answer = ex.answer[:_size(ex)]
                if len(answer) == _size(ex) >= MIN_ANSWER:
                    self._first_use.setdefault(answer, (self._scanned, f"conversation {cs.id}"))
                self._position[(cs.transport, cs.id)] = self._scanned
            self._scanned += 1
            if cs is upto:
                break

    def _judge(self, eng, cs) -> AuthVerdict:
        ex = _exchange(eng, cs)
        size = _size(ex)
        if (len(ex.challenge) < authcodec.CHALLENGE_SIZE or len(ex.answer) < size
                or size < MIN_ANSWER):
            what = "challenge" if len(ex.challenge) < authcodec.CHALLENGE_SIZE else "answer"
            return AuthVerdict("unchecked", ex.variant,
                               f"the {what} is not complete in the capture", ex.answer_packet)
        if self.secret is None:
            return AuthVerdict("unchecked", ex.variant,
                               f"{NO_SECRET} ({_server_hint(ex, cs)})", ex.answer_packet)
        answer = ex.answer[:size]
        first = self._first_use.get(answer)
        here = self._position.get((cs.transport, cs.id))
        if first is not None and here is not None and first[0] < here:
            return AuthVerdict("replayed", ex.variant,
                               f"the same answer bytes were sent earlier, in {first[1]}: a "
                               "recorded answer sent again for a new challenge; "
                               + _server_hint(ex, cs), ex.answer_packet)
        return self._with_secret(ex, cs)

    def _with_secret(self, ex: _Exchange, cs) -> AuthVerdict:
        tried = [ex.variant] if cs.options.get("variant") else list(authcodec.VARIANTS)
        for variant in tried:
            size = authcodec.ANSWER_SIZE[variant]
            if len(ex.answer) >= size and authcodec.verify(self.secret, ex.challenge,
                                                            ex.answer[:size], variant):
                return AuthVerdict("accepted", variant,
                                   f"the answer is {variant} of the secret and this "
                                   f"connection's challenge; {_server_hint(ex, cs)}",
                                   ex.answer_packet)
        then = (f"yet {_server_hint(ex, cs)} (is the given secret the server's?)"
                if ex.server_went_on else
                f"{_server_hint(ex, cs)}: the application refused the client, this is not a "
                "network fault")
        return AuthVerdict("rejected", ex.variant,
                           "the answer is not the digest of the given secret and this "
                           "connection's challenge (a wrong secret, or a client that does not "
                           f"know it); {then}", ex.answer_packet)


_CHECKERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def is_auth(cs) -> bool:
    """Whether a conversation (ConvState) is cut as auth: the only ones with a verdict."""
    return cs.spec is not None and cs.spec.name == "auth" and cs.transport == "tcp"


def checker_for(eng, secret: bytes | None = None) -> AuthChecker:
    """The AuthChecker of this engine and secret, made once: every view asking about the
    same capture shares what it has seen (replays need the earlier answers)."""
    with eng.lock:
        by_secret = _CHECKERS.setdefault(eng, {})
        if secret not in by_secret:
            by_secret[secret] = AuthChecker(secret)
        return by_secret[secret]
