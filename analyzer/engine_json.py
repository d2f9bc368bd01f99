"""Engine summary JSON: `wirelab summary --json` (EngineJSON mixin of analyzer.engine.Engine)
and the message/conversation JSON helpers.

Part of analyzer.engine: import names from analyzer.engine (this part imports the contract
dataclasses from there, so importing it before analyzer.engine is a circular ImportError)."""
from __future__ import annotations

import json

from analyzer.conv_state_store import _ConvState
from analyzer.engine import Conversation, Message
from analyzer.engine_common import _DIRS, _LOOPBACK_DUP


class EngineJSON:
    """Summary JSON writing of Engine."""

    def summary_json(self) -> dict:
        """The `wirelab summary --json` object (messages without summaries: see
        conversation_json(summaries=True) for those)."""
        with self.lock:
            return {
                "file": self.source_path,
                "packets": self.packet_count,
                "loopback_duplicates": self.loopback_duplicates,
                "warnings": list(self.warnings),
                "conversations": [self.conversation_json(cs) for cs in self._conv_order],
            }

    def write_summary_json(self, fp, summaries: bool = False) -> None:
        """Write summary_json() to `fp` one conversation at a time (flat memory)."""
        with self.lock:
            head = {"file": self.source_path, "packets": self.packet_count,
                    "loopback_duplicates": self.loopback_duplicates,
                    "warnings": list(self.warnings)}
            text = json.dumps(head, separators=(",", ":"))
            fp.write(text[:-1] + ',"conversations":[')
            for k, cs in enumerate(self._conv_order):
                if k:
                    fp.write(",")
                if summaries:
                    fp.write(json.dumps(self.conversation_json(cs, True), separators=(",", ":")))
                else:
                    fp.write(self._conversation_json_text(cs))
            fp.write("]}\n")

    def _conversation_json_text(self, cs: _ConvState) -> str:
        """conversation_json(cs) as compact JSON text, messages formatted directly (fast)."""
        out = conversation_json(self._conversation(cs, cache=False), messages=False)
        n = cs.message_count
        m_dir, m_off, m_len, m_pk, pk, bad = cs.m_dir, cs.m_off, cs.m_len, cs.m_pk, cs.pk, cs.m_bad
        total = len(pk)
        split = 0
        parts = []
        dirs = ('"c2s"', '"s2c"')
        for i in range(n):
            a = m_pk[i]
            b = m_pk[i + 1] if i + 1 < n else total
            if b - a > 1:
                split += 1
                pks = ",".join(map(str, pk[a:b]))
            else:
                pks = str(pk[a]) if b > a else ""
            extra = f',"malformed":{json.dumps(bad[i])}' if i in bad else ""
            parts.append(f'{{"index":{i},"direction":{dirs[m_dir[i]]},"offset":{m_off[i]},'
                         f'"length":{m_len[i]},"packets":[{pks}]{extra}}}')
        out["split_messages"] = split
        text = json.dumps(out, separators=(",", ":"))
        return text.replace('"messages":[]', '"messages":[' + ",".join(parts) + "]", 1)

    @property
    def loopback_duplicates(self) -> int:
        return sum(1 for b in self._bits if b & _LOOPBACK_DUP)

    def conversation_json(self, conv, summaries: bool = False) -> dict:
        """One conversation of the summary JSON, built from the compact arrays."""
        with self.lock:
            cs = conv if isinstance(conv, _ConvState) else self._convs[conv.key]
            c = self._conversation(cs, cache=False)
            out = conversation_json(c, messages=False)
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
                m = {"index": i, "direction": _DIRS[m_dir[i]], "offset": m_off[i],
                     "length": m_len[i], "packets": pk[a:b].tolist()}
                if i in bad:
                    m["malformed"] = bad[i]
                if summaries:
                    m["summary"] = c.messages[i].summary
                msgs.append(m)
            out["messages"] = msgs
            out["split_messages"] = split
            return out



def message_json(m: Message, summary: bool = True) -> dict:
    out = {"index": m.index, "direction": m.direction, "offset": m.offset, "length": m.length,
           "packets": list(m.packets), "protocol": m.protocol}
    if summary:
        out["summary"] = m.summary
    if m.malformed:
        out["malformed"] = m.malformed
    return out


def conversation_json(c: Conversation, messages: bool = True) -> dict:
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
        out["messages"] = [message_json(m, summary=False) for m in c.messages]
        out["split_messages"] = c.split_messages
    return out
