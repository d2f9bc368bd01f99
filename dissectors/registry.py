"""The explicit codec registry: name -> ProtocolSpec (transport, default port, codec, probe).

    from dissectors.registry import REGISTRY, by_port, probe, detect, parse_decode_as, new_connection

    spec = by_port("tcp", 9001)                 # the lenmsg spec (Wireshark-style port default)
    port, name, opts = parse_decode_as("9999=lenmsg:native")   # (9999, "lenmsg", {"variant": "native"})
    conn = new_connection("lenmsg", SERVER, **opts)            # decodes client->server bytes
    spec, opts = detect("tcp", c2s_first_bytes, s2c_first_bytes) or (None, {})

Nothing is registered at import time by side effect: the table below is the whole registry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from . import auth, bigreply, chat, filexfer, framed, lenmsg, udpecho
from .base import Role


@dataclass(frozen=True)
class ProtocolSpec:
    name: str                  # "chat" "lenmsg" "filexfer" "auth" "bigreply" "udpecho"
    transport: str             # "tcp" | "udp"
    default_port: int          # 9000..9005 per docs/protocols.md
    framed: bool               # False for chat (no boundaries on the wire)
    connection: type           # the codec's Connection class
    variants: tuple[str, ...]  # accepted values of the `variant` option ("" = none)
    description: str = ""
    _probe: Callable[[bytes, bytes], bool] | None = field(default=None, repr=False, compare=False)
    _variant_of: Callable[[bytes, bytes], str | None] | None = field(default=None, repr=False, compare=False)
    hint_port: bool = False    # the codec takes hint_port= (named in its length errors)
    server_first: bool = False  # the server speaks first (a client speaking first is not it)

    def probe(self, c2s: bytes, s2c: bytes) -> bool:
        """Heuristic: do the first bytes seen in each direction look like this protocol?"""
        if self._probe is None:
            return False
        try:
            return bool(self._probe(bytes(c2s), bytes(s2c)))
        except Exception:  # a heuristic never breaks the caller
            return False

    def guess_variant(self, c2s: bytes, s2c: bytes) -> str | None:
        """The variant the first bytes suggest (None: default / no variants)."""
        if self._variant_of is None:
            return None
        try:
            return self._variant_of(bytes(c2s), bytes(s2c))
        except Exception:
            return None


_SPECS = (
    ProtocolSpec("chat", "tcp", 9000, False, chat.Connection, (),
                 "unframed text, answered upper-cased", chat.probe),
    ProtocolSpec("lenmsg", "tcp", 9001, True, lenmsg.Connection, ("network", "native"),
                 "4-byte length + payload", lenmsg.probe, lenmsg.detect_variant, True),
    ProtocolSpec("filexfer", "tcp", 9002, True, filexfer.Connection, ("network", "native"),
                 "4-byte header length + JSON header + content", filexfer.probe,
                 filexfer.detect_variant, True),
    ProtocolSpec("auth", "tcp", 9003, True, auth.Connection, auth.VARIANTS,
                 "32-byte challenge, digest answer, then chat", auth.probe, auth.detect_variant,
                 server_first=True),
    ProtocolSpec("bigreply", "tcp", 9004, True, bigreply.Connection, (),
                 "GET <name> lines, large REPORT replies", bigreply.probe),
    ProtocolSpec("udpecho", "udp", 9005, True, udpecho.Connection, (),
                 "datagrams echoed upper-cased", udpecho.probe),
)

REGISTRY: dict[str, ProtocolSpec] = {s.name: s for s in _SPECS}
_BY_PORT: dict[tuple[str, int], ProtocolSpec] = {}       # (transport, default port) -> spec
for _spec in _SPECS:
    _BY_PORT.setdefault((_spec.transport, _spec.default_port), _spec)

# a framing stated by hand or inferred (dissectors.framed): no default port, no probe, so it
# is not one of the named protocols above
FRAMED = ProtocolSpec("framed", "tcp", 0, True, framed.Connection, (),
                      "a framing in the dissectors.framed grammar")
# --decode-as PORT=infer: infer the framing from the bytes (analyzer.engine.framing)
INFER = "infer"

# most specific first: a later, looser probe never steals a stream an earlier one recognises
_PROBE_ORDER = ("bigreply", "filexfer", "lenmsg", "auth", "chat", "udpecho")


def get(name: str) -> ProtocolSpec:
    """The spec of `name` (or FRAMED for "framed"); KeyError with the known names otherwise."""
    if name == FRAMED.name:
        return FRAMED
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown protocol {name!r} (known: {', '.join(REGISTRY)})") from None


def by_port(transport: str, port: int) -> ProtocolSpec | None:
    """The protocol whose default port (for this transport) is `port`, or None."""
    return _BY_PORT.get((transport, port))


def probe(transport: str, c2s: bytes, s2c: bytes) -> ProtocolSpec | None:
    """The best heuristic match for a conversation's first bytes, or None."""
    found = detect(transport, c2s, s2c)
    return found[0] if found else None


def detect(transport: str, c2s: bytes, s2c: bytes) -> tuple[ProtocolSpec, dict] | None:
    """Like probe() but also returns the codec options it guessed, e.g. {"variant": "native"}."""
    for name in _PROBE_ORDER:
        spec = REGISTRY[name]
        if spec.transport == transport and spec.probe(c2s, s2c):
            variant = spec.guess_variant(c2s, s2c)
            return spec, ({"variant": variant} if variant else {})
    return None


def detect_all(transport: str, c2s: bytes, s2c: bytes) -> list[tuple[ProtocolSpec, dict]]:
    """Every protocol whose probe matches the first bytes, most specific first, with the
    codec options each guessed (the caller checks them against more bytes)."""
    out = []
    for name in _PROBE_ORDER:
        spec = REGISTRY[name]
        if spec.transport == transport and spec.probe(c2s, s2c):
            variant = spec.guess_variant(c2s, s2c)
            out.append((spec, {"variant": variant} if variant else {}))
    return out


def parse_decode_as(text: str) -> tuple[int, str, dict]:
    """'9999=lenmsg:native' -> (9999, 'lenmsg', {'variant': 'native'}); ValueError if bad.
    '7005=infer' -> (7005, 'infer', {}); a framing of the dissectors.framed grammar,
    '7005=len:4:le' or '7005=framed:len:4:le' -> (7005, 'framed', {'framing': 'len:4:le'});
    one per direction, '7005=c2s:delim:lf,s2c:len:4:be' -> (7005, 'framed', {'c2s':
    'delim:\\n', 's2c': 'len:4:be'}) (see dissectors.framed.stated_options)."""
    if not isinstance(text, str) or "=" not in text:
        raise ValueError(f"bad decode-as {text!r}: expected PORT=PROTOCOL[:VARIANT], e.g. 9999=lenmsg:native")
    port_text, _, proto_text = text.strip().partition("=")
    port_text = port_text.strip()
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"bad decode-as {text!r}: port must be a number 1-65535")
    name, _, variant = proto_text.strip().partition(":")
    name, variant = name.strip().lower(), variant.strip().lower()
    if name == INFER and not variant:
        return int(port_text), INFER, {}
    if framed.is_stated(proto_text):
        try:
            return int(port_text), FRAMED.name, framed.stated_options(proto_text)
        except ValueError as exc:
            raise ValueError(f"bad decode-as {text!r}: {exc}") from None
    if name not in REGISTRY:
        raise ValueError(f"bad decode-as {text!r}: unknown protocol {name!r} "
                         f"(known: {', '.join(REGISTRY)}; or infer, or a framing such as "
                         f"len:4:le, delim:lf, fixed:16, lenjson:4:le:filesize, or one per "
                         f"direction: c2s:delim:lf,s2c:len:4:be)")
    spec = REGISTRY[name]
    options: dict = {}
    if variant:
        if variant not in spec.variants:
            known = ", ".join(spec.variants) if spec.variants else "none"
            raise ValueError(f"bad decode-as {text!r}: {name} has no variant {variant!r} (variants: {known})")
        options["variant"] = variant
    elif ":" in proto_text:
        raise ValueError(f"bad decode-as {text!r}: empty variant after ':'")
    return int(port_text), name, options


def new_connection(name: str, our_role: Role, **options):
    """A fresh codec Connection for `name` (decode what the peer of `our_role` sends)."""
    return get(name).connection(our_role, **options)
