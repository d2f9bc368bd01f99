"""The `wirelab summary --json` object: whole (`summary_json`), streamed one conversation at
a time (`write_summary_json`), or one conversation (`conversation_json`)."""
from __future__ import annotations

import json

from analyzer.engine.auth_check import checker_for, is_auth
from analyzer.engine.constants import DIRS, LOOPBACK_DUP
from analyzer.engine.conv_state import malformed_texts
from analyzer.engine.retired import PackedConv, packed_analysis, summary_facts
from analyzer.engine.types import Conversation, Message
from analyzer.render.json_lists import conv_text  # the twin cimports it (setup.py)
from analyzer.render.packed_text import analysis_key
from analyzer.render.packed_text import packed_text  # the twin cimports it (setup.py)


def loopback_duplicates(eng) -> int:
    """Packets set aside as the second copy of a loopback packet."""
    return sum(1 for b in eng.index.analysis if b & LOOPBACK_DUP)


def choice_json(eng, transport: str, conv_id: int) -> dict | None:
    """How a conversation's protocol was chosen (analyzer.engine.protocol_choice): "by",
    "rejected" probes, and for inferred framings "framing" {c2s, s2c, threshold}."""
    info = eng.protocols.choice_of((transport, conv_id))
    return None if info is None else dict(info)


def _add_choice(eng, out: dict, transport: str, conv_id: int) -> None:
    """The "framing" and "protocol_choice" keys of one conversation (when there is news)."""
    info = choice_json(eng, transport, conv_id)
    if info is None:
        return
    if "framing" in info:
        out["framing"] = info.pop("framing")
    out["protocol_choice"] = info


def summary_head(eng) -> dict:
    return {"file": eng.source_path, "packets": eng.packet_count,
            "loopback_duplicates": loopback_duplicates(eng), "warnings": list(eng.warnings)}


def auth_json(eng, cs, secret: bytes | None = None) -> dict | None:
    """The "auth" key of an auth conversation: {"verdict", "variant", "why", "answer_packet"}
    (see analyzer.engine.auth_check); None for other protocols."""
    if not is_auth(cs):
        return None                 # (without looking up the engine's checker)
    got = checker_for(eng, secret).verdict(eng, cs)
    return None if got is None else got.to_json()


def summary_json(eng, secret: bytes | None = None) -> dict:
    """The whole object (messages without summaries: see conversation_json(summaries=True))."""
    with eng.lock:
        out = summary_head(eng)
        out["conversations"] = [conversation_json(eng, cs, secret=secret) for cs in eng.states]
        return out


def write_summary_json(eng, fp, summaries: bool = False, secret: bytes | None = None) -> None:
    """Write summary_json(eng) to `fp` one conversation at a time (flat memory); `secret`
    checks the auth answers.  Packed conversations are written from their blob, not
    unpacked."""
    with eng.lock:
        text = json.dumps(summary_head(eng), separators=(",", ":"))
        fp.write(text[:-1] + ',"conversations":[')
        table = eng.states
        choices = eng.protocols.choices
        sep = ""
        texts: list[str] = []           # written 256 conversations at a time (fewer writes)
        for k, entry in enumerate(table.entries):
            if summaries:
                text = json.dumps(conversation_json(eng, table[k], True, secret),
                                  separators=(",", ":"))
            elif type(entry) is PackedConv and not is_auth(entry):
                text = packed_json_text(eng, entry, choices)
            else:
                text = conversation_json_text(eng, table[k], secret)
            texts.append(text)
            if len(texts) == 256:
                fp.write(sep)
                fp.write(",".join(texts))
                texts.clear()
                sep = ","
        if texts:
            fp.write(sep)
            fp.write(",".join(texts))
        fp.write("]}\n")


def conversation_json_text(eng, cs, secret: bytes | None = None) -> str:
    """conversation_json(eng, cs) as compact JSON text, written directly (3x faster than
    building its dicts on a million messages)."""
    c = eng.conversation_for(cs, cache=False)
    hs, td = c.handshake, c.teardown
    text = conv_text(
        c.id, c.transport, c.client, c.server, c.state, c.history,
        (hs["complete"], hs["frames"], hs["rtt_ms"]), (td["kind"], td["initiator"], td["frames"]),
        c.protocol, c.first_packet, c.last_packet, c.start_time, c.end_time, c.packets,
        c.bytes_c2s, c.bytes_s2c, cs.message_count,
        (cs.m_dir, cs.m_off, cs.m_len, cs.m_pk, cs.pk), cs.m_bad, c.coalesced_packets,
        _analysis_text(c.analysis), c.malformed, c.gaps, _choice_text(eng, c.transport, c.id))
    auth = auth_json(eng, cs, secret)
    return text if auth is None else f'{text[:-1]},"auth":{_compact(auth)}}}'


def packed_json_text(eng, p: PackedConv, choices=None) -> str:
    """conversation_json_text of a packed (not auth) conversation, from its blob (read where
    it lies when the conversation has no findings: most of them); `choices`: the engine's
    protocol choices (eng.protocols.choices), looked up once by the caller."""
    choice = _choice_text(eng, "tcp", p.id, choices)
    text = packed_text(p.id, p.protocol, p.head, p.blob, _PACKED_ANALYSIS_TEXTS, choice)
    if text is not None:
        return text
    (client, server, state, history, hs, td, first, last, start, end, packets, b1, b2, analysis,
     arrays, bad, coalesced, gaps) = summary_facts(p)
    return conv_text(
        p.id, "tcp", client, server, state, history, hs, td, p.protocol, first, last, start,
        end, packets, b1, b2, len(arrays[0]), arrays, bad, coalesced,
        _packed_analysis_text(analysis), malformed_texts(bad, arrays[0], arrays[1]) if bad else (),
        gaps, choice)


def _conv_text(cid, transport, client, server, state, history, hs, td, protocol, first, last,
               start, end, packets, b1, b2, n, arrays, bad, coalesced, analysis, malformed, gaps,
               choice) -> str:
    """json_lists.conv_text (C in the compiled twin), for the tests comparing the two."""
    return conv_text(cid, transport, client, server, state, history, hs, td, protocol, first,
                     last, start, end, packets, b1, b2, n, arrays, bad, coalesced, analysis,
                     malformed, gaps, choice)


def _choice_text(eng, transport: str, conv_id: int, choices=None) -> str:
    """The "framing" and "protocol_choice" keys of one conversation ("" when no news), as
    _add_choice puts them; the text of a choice made of strings only ({"by": "port"}, the
    same in most conversations) kept for the next one.  `choices`: eng.protocols.choices."""
    if choices is None:
        choices = eng.protocols.choices
    info = choices.of(transport, conv_id)       # (choice_of, without a key made)
    if info is None:
        return ""
    by = info.get("by") if len(info) == 1 else None
    if type(by) is str:                 # {"by": "port"}: most conversations
        text = _BY_TEXTS.get(by)
        if text is not None:
            return text
        key = (("by", by),)
    else:
        key = tuple(info.items()) if all([type(v) is str for v in info.values()]) else None
    text = _CHOICE_TEXTS.get(key) if key is not None else None
    if text is None:
        out: dict = {}
        _add_choice(eng, out, transport, conv_id)
        text = "," + _compact(out)[1:-1]
        if key is not None and len(_CHOICE_TEXTS) < 256:
            _CHOICE_TEXTS[key] = text
            if type(by) is str:
                _BY_TEXTS[by] = text
    return text


_CHOICE_TEXTS: dict[tuple, str] = {}
_BY_TEXTS: dict[str, str] = {}          # the same, of {"by": X} by X


_compact = json.JSONEncoder(separators=(",", ":")).encode


_ANALYSIS_TEXTS: dict[tuple, str] = {}      # the same few analysis counts in most conversations


def _analysis_text(analysis: dict) -> str:
    """The compact JSON of a conversation's analysis counts (kept for the next one alike)."""
    key = tuple(analysis.items())
    text = _ANALYSIS_TEXTS.get(key)
    if text is None:
        text = _compact(analysis)
        if len(_ANALYSIS_TEXTS) < 4096:
            _ANALYSIS_TEXTS[key] = text
    return text


# by the counts' bytes in the blob (analysis_key: what packed_text looks up, no tuple made)
_PACKED_ANALYSIS_TEXTS: dict[bytes, str] = {}


def _packed_analysis_text(key: tuple) -> str:
    """_analysis_text of a packed conversation's counts, from summary_facts' key (kept for the
    next one alike: most conversations have no findings)."""
    blob_key = analysis_key(*key)
    text = _PACKED_ANALYSIS_TEXTS.get(blob_key)
    if text is None:
        text = _analysis_text(packed_analysis(key))
        if len(_PACKED_ANALYSIS_TEXTS) < 4096:
            _PACKED_ANALYSIS_TEXTS[blob_key] = text
    return text


def conversation_json(eng, conv, summaries: bool = False, secret: bytes | None = None) -> dict:
    """One conversation of the summary JSON (a Conversation, key or ConvState)."""
    with eng.lock:
        cs = eng.state(conv)
        c = eng.conversation_for(cs, cache=False)
        out = conversation_dict(c, messages=False)
        _add_choice(eng, out, out["transport"], out["id"])
        msgs = []
        n = cs.message_count
        m_dir, m_off, m_len, m_pk, pk, bad = cs.m_dir, cs.m_off, cs.m_len, cs.m_pk, cs.pk, cs.m_bad
        total = len(pk)
        split = 0
        for i in range(n):
            a = m_pk[i]
            b = m_pk[i + 1] if i + 1 < n else total
            if b - a > 1:
                split += 1
            m = {"index": i, "direction": DIRS[m_dir[i]], "offset": m_off[i],
                 "length": m_len[i], "packets": pk[a:b].tolist()}
            if i in bad:
                m["malformed"] = bad[i]
            if summaries:
                m["summary"] = c.messages[i].summary
            msgs.append(m)
        out["messages"] = msgs
        out["split_messages"] = split
        auth = auth_json(eng, cs, secret)
        if auth is not None:
            out["auth"] = auth
        return out


def message_dict(m: Message, summary: bool = True) -> dict:
    out = {"index": m.index, "direction": m.direction, "offset": m.offset, "length": m.length,
           "packets": list(m.packets), "protocol": m.protocol}
    if summary:
        out["summary"] = m.summary
    if m.malformed:
        out["malformed"] = m.malformed
    return out


def conversation_dict(c: Conversation, messages: bool = True) -> dict:
    out = {
        "id": c.id, "transport": c.transport, "client": c.client, "server": c.server,
        "state": c.state, "history": c.history, "handshake": c.handshake,
        "teardown": c.teardown, "protocol": c.protocol,
        "first_packet": c.first_packet, "last_packet": c.last_packet,
        "start_time": c.start_time, "end_time": c.end_time, "packets": c.packets,
        "bytes_c2s": c.bytes_c2s, "bytes_s2c": c.bytes_s2c,
        "messages": [],
        "coalesced_packets": list(c.coalesced_packets),
        "split_messages": 0,
        "analysis": dict(c.analysis),
        "malformed": list(c.malformed),
        "gaps": [{"direction": d, "offset": o, "length": ln, "text": f"[{ln} bytes missing]"}
                 for d, o, ln in c.gaps],
    }
    if messages:
        out["messages"] = [message_dict(m, summary=False) for m in c.messages]
        out["split_messages"] = c.split_messages
    return out

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
