"""Which ports the comparison with tshark cuts with a generated framing dissector
(analyzer.wireshark.lua_framing), and with which framing: the ports `--decode-as` states a
framing for (`7005=len:4:le`, `7005=c2s:delim:lf,s2c:len:4:be`), and the ports it asks to
infer (`7005=infer`), where the framing is the one wirelab inferred for most of that port's
conversations.  A conversation on such a port is compared only when wirelab cut it with that
same framing (`conversation_framings`).

    ports = framed_ports(engine, {7005: "infer", 7006: "framed:len:4:le"})
    ports[7005]    # (Framing c2s or None, Framing s2c or None)
"""
from __future__ import annotations

from collections import Counter

from dissectors import registry
from dissectors.framed import Framing, is_stated, parse_framing, stated_options

from analyzer.engine.protocol_choice import framing_of

FramingPair = tuple  # (Framing | None, Framing | None): c2s, s2c
PROTOCOL = "framed"       # how both sides name a message cut by a framing in the comparison
FRAMED_PROTOCOLS = ("framed", "inferred")   # wirelab's names of such conversations


def framed_decode_as(decode_as: dict | None) -> dict[int, str]:
    """The --decode-as entries naming a stated framing or `infer`: {port: text}."""
    return {int(port): str(text) for port, text in (decode_as or {}).items()
            if str(text).strip().lower() == registry.INFER or is_stated(str(text))}


def _port(endpoint: str) -> int:
    try:
        return int(str(endpoint).rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return -1


def server_port(conv) -> int:
    """The port of a conversation's server (-1 when its text has none)."""
    return _port(conv.server)


def conversation_framings(engine, conv) -> FramingPair | None:
    """The (c2s, s2c) framings wirelab cut a TCP conversation with (stated or inferred), or
    None when it was not cut by a framing."""
    if conv.transport != "tcp" or conv.protocol not in FRAMED_PROTOCOLS:
        return None
    choice = engine.protocols.choice_of(conv.key) or {}
    report = choice.get("framing")
    if report is not None:
        return tuple(parse_framing(report[d]["framing"]) if report[d]["framing"] else None
                     for d in ("c2s", "s2c"))
    port = server_port(conv)
    spec, options = engine.protocols.for_ports("tcp", port, _port(conv.client))
    if spec is not registry.FRAMED:
        return None
    return framing_of(options, 0), framing_of(options, 1)


def stated_framings(text: str) -> FramingPair:
    """The (c2s, s2c) Framings of a stated --decode-as framing text."""
    options = stated_options(text)
    return tuple(Framing.parse(g) if g else None
                 for g in (options.get("framing") or options.get(d) for d in ("c2s", "s2c")))


def framed_ports(engine, decode_as: dict | None) -> dict[int, FramingPair]:
    """Port -> (c2s, s2c) for the generated dissector: stated framings as given; for `infer`
    the pair most of the port's conversations were cut with (ports where none was found are
    left out)."""
    out: dict[int, FramingPair] = {}
    wanted = framed_decode_as(decode_as)
    inferred: dict[int, Counter] = {}
    for port, text in wanted.items():
        if text.strip().lower() != registry.INFER:
            out[port] = stated_framings(text)
    for conv in engine.conversations:
        port = server_port(conv)
        if port in wanted and port not in out:
            pair = conversation_framings(engine, conv)
            if pair is not None and any(pair):
                inferred.setdefault(port, Counter())[pair] += 1
    for port, counts in inferred.items():
        out[port] = counts.most_common(1)[0][0]
    return out


def pair_text(pair: FramingPair | None) -> str:
    """'c2s:GRAMMAR,s2c:GRAMMAR' ('none' for a direction not cut), or 'no framing'."""
    if pair is None:
        return "no framing"
    return ",".join(f"{d}:{f.grammar() if f else 'none'}" for d, f in zip(("c2s", "s2c"), pair))
