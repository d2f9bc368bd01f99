"""Choosing the framing that explains one direction's bytes (see the package docstring).

    result = infer_direction(Sample(data, pushes, total, complete))
    result.framing            # dissectors.framed.Framing, or None: unframed (result.reason)
    result.confidence         # 0..1; a framing is reported as found when >= THRESHOLD

Every candidate (analyzer.engine.framing.hypotheses) is cut over the sample; one leaving
bytes over at the end of a closed stream, or meeting bytes it cannot read as its header, is
out.  The rest are scored (analyzer.engine.framing.scoring); the best wins, the best one that
cuts differently is the alternative, and the confidence grows with the winner's evidence
(less what so many candidates find by chance) and its margin over that alternative.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from math import log2

from dissectors.base import MAX_FRAME
from dissectors.framed import Framing

from analyzer.engine.framing.hypotheses import candidates, complexity
from analyzer.engine.framing.scoring import Cut, alignment_bits, cut, fits, structure_bits

THRESHOLD = 0.8          # a framing below this confidence is a guess, not a finding
CHANCE_BITS = 11.0       # evidence some candidate among ~1000 reaches by chance
MIN_BYTES = 8
HIGH_ENTROPY = 7.0       # bits per byte: compressed or encrypted-looking


@dataclass(slots=True)
class Sample:
    """The first bytes of one direction: data, the stream offsets where the sender's
    segments ended (pushes), the stream's length so far, and whether it was closed (FIN)."""

    data: bytes
    pushes: list = field(default_factory=list)
    total: int = 0
    complete: bool = False


@dataclass(slots=True)
class Scored:
    framing: Framing
    cut: Cut
    bits: float


@dataclass(slots=True)
class DirectionResult:
    """What inference found for one direction."""

    framing: Framing | None
    confidence: float = 0.0
    reason: str = ""                     # why unframed (framing None)
    messages: int = 0
    alternative: Framing | None = None
    alternative_confidence: float = 0.0
    same_boundaries: bool = False        # the alternative cuts exactly alike
    mirrored: bool = False               # taken from the other direction

    @property
    def found(self) -> bool:
        return self.framing is not None

    def text(self) -> str:
        if self.framing is None:
            return "unframed: " + self.reason
        return self.framing.text()

    def as_dict(self) -> dict:
        out = {"text": self.text(), "confidence": round(self.confidence, 3),
               "framing": self.framing.grammar() if self.framing else None,
               "messages_seen": self.messages, "alternative": None}
        if self.mirrored:
            out["as_other_direction"] = True
        if self.alternative is not None:
            out["alternative"] = {"text": self.alternative.text(),
                                  "framing": self.alternative.grammar(),
                                  "confidence": round(self.alternative_confidence, 3),
                                  "same_boundaries": self.same_boundaries}
        return out


def entropy(data: bytes) -> float:
    """Shannon entropy of the bytes, in bits per byte."""
    n = len(data)
    if not n:
        return 0.0
    return -sum(c / n * log2(c / n) for c in Counter(data).values())


def _score(f: Framing, s: Sample) -> Scored | None:
    limit = max(MAX_FRAME, s.total) if s.complete else MAX_FRAME
    c = cut(f, s.data, limit)
    if not fits(c, len(s.data), s.total, s.complete):
        return None
    exact_end = s.complete and bool(c.ends) and (c.ends[-1] == s.total or c.open_end == s.total)
    bits = (structure_bits(f, c, exact_end) + alignment_bits(c.ends, s.pushes)
            - complexity(f))
    return Scored(f, c, bits)


def _confidence(bits: float, margin: float) -> float:
    evidence = bits - CHANCE_BITS
    if evidence <= 0:
        return 0.0
    return (1 - 2 ** (-evidence / 2)) * (1 - 2 ** (-max(0.0, margin) / 2))


def _boundaries(sc: Scored) -> tuple:
    return tuple(sc.cut.ends) + ((sc.cut.open_end,) if sc.cut.open_end is not None else ())


def infer_direction(s: Sample) -> DirectionResult:
    """The framing of one direction (see the module docstring)."""
    if len(s.data) < MIN_BYTES:
        return DirectionResult(None, reason=f"too short to decide ({len(s.data)} bytes)")
    total = s.total if s.complete else len(s.data)
    scored = [sc for f in candidates(s.data, s.pushes, total, s.complete)
              if (sc := _score(f, s)) is not None]
    high = entropy(s.data[:4096]) >= HIGH_ENTROPY and len(s.data) >= 256
    if not scored:
        why = ("the bytes look compressed or encrypted" if high
               else "no length, delimiter or record size explains every byte")
        return DirectionResult(None, reason=why)
    scored.sort(key=lambda sc: -sc.bits)
    best = scored[0]
    key = _boundaries(best)
    other = next((sc for sc in scored[1:] if _boundaries(sc) != key), None)
    margin = best.bits - other.bits if other is not None else best.bits
    conf = _confidence(best.bits, margin)
    n = len(best.cut.ends)
    if conf < THRESHOLD and n < 3 and best.framing.kind != "lenjson":
        return DirectionResult(None, reason=f"too short to decide ({len(s.data)} bytes, "
                                            f"{n} messages at most)", messages=n)
    if conf < THRESHOLD and high:
        return DirectionResult(None, reason=f"the bytes look compressed or encrypted "
                                            f"({entropy(s.data[:4096]):.1f} bits per byte)")
    if conf <= 0:
        return DirectionResult(None, reason="no framing explains the bytes better than chance")
    alt = scored[1] if len(scored) > 1 else None     # the runner-up, cutting alike or not
    result = DirectionResult(best.framing, conf, messages=n)
    if alt is not None:
        result.alternative = alt.framing
        result.same_boundaries = _boundaries(alt) == key
        result.alternative_confidence = (conf if result.same_boundaries
                                         else _confidence(alt.bits, alt.bits - best.bits))
    return result


def mirror(result: DirectionResult, other: DirectionResult, s: Sample) -> DirectionResult:
    """A direction inference left unframed, read with the other direction's framing when
    that explains its bytes (request/reply protocols often frame both alike)."""
    if result.found or not other.found or other.confidence < THRESHOLD or not s.data:
        return result
    sc = _score(other.framing, s)
    if sc is None or not sc.cut.ends:
        return result
    return DirectionResult(other.framing, other.confidence * 0.9, messages=len(sc.cut.ends),
                           mirrored=True)


def infer_pair(c2s: Sample, s2c: Sample) -> tuple[DirectionResult, DirectionResult]:
    """Both directions of a conversation."""
    a, b = infer_direction(c2s), infer_direction(s2c)
    return mirror(a, b, c2s), mirror(b, a, s2c)


def confidence_alone(framing: Framing, ends: list[int], open_end: int | None,
                     pushes: list[int]) -> float:
    """The confidence of `framing` cutting a stream prefix into messages ending at `ends`
    (and one begun, to end at `open_end`; its sender's segments ending at `pushes`) on its
    own evidence, no rival weighed: for a framing known from another conversation
    (analyzer.engine.framing.known)."""
    bits = (structure_bits(framing, Cut(ends, open_end, None), False)
            + alignment_bits(ends, pushes) - complexity(framing))
    return _confidence(bits, bits)


def check(framing: Framing, s: Sample) -> int | None:
    """Messages `framing` finds in the sample, or None when it does not explain it with
    evidence enough for THRESHOLD on its own (a framing known from another conversation)."""
    sc = _score(framing, s)
    if sc is None or _confidence(sc.bits, sc.bits) < THRESHOLD:
        return None
    return len(sc.cut.ends)
