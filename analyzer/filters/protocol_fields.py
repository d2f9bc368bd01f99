"""Fields of the application protocols, named as the exported Wireshark Lua plugin names them
(analyzer/wireshark/wirelab.lua), plus wirelab's own msg.* and conv.* fields.

A plugin field belongs to the packet where its message ENDS, as in Wireshark, which shows a
reassembled message in the frame that completes it:
    lenmsg, lenmsg.wire_len, lenmsg.direction, lenmsg.length, lenmsg.payload, lenmsg.text,
    filexfer.header_length, filexfer.header, filexfer.content_length, chat.text,
    bigreply.name, bigreply.nbytes, bigreply.request, bigreply.status, udpecho.text, ...
wirelab's msg.* fields belong to every packet that carries part of a message (msg.len is
<proto>.wire_len for any protocol); conv.* fields to every packet of the conversation.
"""
from __future__ import annotations

from analyzer.filters.context import PacketContext
from analyzer.filters.fields import Getter

PROTOCOLS = ("chat", "lenmsg", "filexfer", "auth", "bigreply", "udpecho")
TEXT_LIMIT = 1 << 20     # bytes of one message read for a text/bytes field


def _conv(value) -> Getter:
    """getter of a fact of the packet's conversation: value(conversation)."""
    def get(ctx):
        c = ctx.conv
        return None if c is None else value(c)
    return get


def _msg_protocol(ctx):
    vals = [s.message.protocol for s in ctx.slices]
    if vals:
        return vals
    c = ctx.conv
    return c.protocol if c is not None and c.protocol else None


def _per_message(protocol: str, value) -> Getter:
    """getter over the messages of `protocol` ending in the packet: value(ctx, message)."""
    def get(ctx: PacketContext):
        out = [v for m in ctx.ended(protocol) if (v := value(ctx, m)) is not None]
        return out or None
    return get


def _body(ctx: PacketContext, m) -> bytes:
    conv = ctx.conv
    return b"" if conv is None else ctx.engine.message_bytes(conv, m, TEXT_LIMIT)


def _field_int(key: str):
    def value(ctx, m):
        v = m.fields.get(key)
        try:
            return int(v) if v is not None else None
        except (TypeError, ValueError):
            return None
    return value


def _text(skip: int = 0):
    return lambda ctx, m: _body(ctx, m)[skip:].decode("utf-8", "replace") or None


def _first_line(direction: str):
    def value(ctx, m):
        if m.direction != direction:
            return None
        return _body(ctx, m).split(b"\n", 1)[0].decode("utf-8", "replace") + "\n"
    return value


def _filexfer_header(ctx, m):
    h = _field_int("header_length")(ctx, m)
    return None if h is None else _body(ctx, m)[4: 4 + h].decode("utf-8", "replace")


def _filexfer_content_length(ctx, m):
    h = _field_int("header_length")(ctx, m)
    return None if h is None or m.malformed else m.length - 4 - h


def _bigreply_nbytes(ctx, m):
    return _field_int("nbytes")(ctx, m) if m.direction == "s2c" else None


def _common(p: str) -> dict[str, tuple[str, Getter]]:
    return {
        p: ("bool", lambda c, p=p: c.ends(p)),
        f"{p}.wire_len": ("int", _per_message(p, lambda c, m: m.length)),
        f"{p}.direction": ("text", _per_message(p, lambda c, m: m.direction)),
        f"{p}.malformed": ("text", _per_message(p, lambda c, m: m.malformed)),
    }


PROTOCOL_FIELDS: dict[str, tuple[str, Getter]] = {}
for _p in PROTOCOLS:
    PROTOCOL_FIELDS.update(_common(_p))
PROTOCOL_FIELDS.update({
    "chat.text": ("text", _per_message("chat", _text())),
    "udpecho.text": ("text", _per_message("udpecho", _text())),
    "lenmsg.length": ("int", _per_message("lenmsg", _field_int("length"))),
    "lenmsg.payload": ("bytes", _per_message("lenmsg", lambda c, m: _body(c, m)[4:] or None)),
    "lenmsg.text": ("text", _per_message("lenmsg", _text(4))),
    "filexfer.header_length": ("int", _per_message("filexfer", _field_int("header_length"))),
    "filexfer.header": ("text", _per_message("filexfer", _filexfer_header)),
    "filexfer.content_length": ("int", _per_message("filexfer", _filexfer_content_length)),
    "bigreply.request": ("text", _per_message("bigreply", _first_line("c2s"))),
    "bigreply.status": ("text", _per_message("bigreply", _first_line("s2c"))),
    "bigreply.name": ("text", _per_message("bigreply", lambda c, m: m.fields.get("name"))),
    "bigreply.nbytes": ("int", _per_message("bigreply", _bigreply_nbytes)),
})

WIRELAB_FIELDS: dict[str, tuple[str, Getter]] = {
    "msg": ("bool", lambda c: bool(c.slices)),
    "msg.count": ("int", lambda c: len(c.slices)),
    "msg.len": ("int", lambda c: [s.message.length for s in c.slices] or None),
    "msg.protocol": ("str", _msg_protocol),
    "msg.direction": ("str", lambda c: [s.message.direction for s in c.slices] or None),
    "msg.summary": ("str", lambda c: [s.message.summary for s in c.slices] or None),
    "msg.coalesced": ("bool", lambda c: len(c.slices) > 1),
    "msg.split": ("bool", lambda c: any(s.message.split for s in c.slices)),
    "msg.malformed": ("bool", lambda c: any(s.message.malformed for s in c.slices)),
    "conv.id": ("int", lambda c: c.stream),
    "conv.state": ("str", _conv(lambda c: c.state)),
    "conv.history": ("str", _conv(lambda c: c.history)),
    "conv.protocol": ("str", _conv(lambda c: c.protocol)),
    "conv.packets": ("int", _conv(lambda c: c.packets)),
    "conv.transport": ("str", _conv(lambda c: c.transport)),
}

