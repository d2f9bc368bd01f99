"""A conversation of the summary JSON as text (`conv_text`), with its lists of numbers: its
"messages", written from its message arrays (analyzer.engine.conv_state: m_dir, m_off, m_len,
m_pk, pk, m_bad), and its frame number lists.  The compiled twin of
analyzer.render.summary_json cimports the C versions instead (analyzer/render/c_json_lists.pxd:
the same text, the digits and strings written into one buffer)."""
from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii

DIRECTIONS = ('"c2s"', '"s2c"')


def messages_text(n, m_dir, m_off, m_len, m_pk, pk, bad) -> tuple[str, int]:
    """The list's text without its brackets, and how many of the `n` messages are split
    (carried by more than one packet).  `bad`: {message index: why it is malformed}."""
    total = len(pk)
    split = 0
    parts = []
    for i in range(n):
        a = m_pk[i]
        b = m_pk[i + 1] if i + 1 < n else total
        if b - a > 1:
            split += 1
            pks = ",".join(map(str, pk[a:b]))
        else:
            pks = str(pk[a]) if b > a else ""
        extra = f',"malformed":{encode_basestring_ascii(bad[i])}' if bad and i in bad else ""
        parts.append(f'{{"index":{i},"direction":{DIRECTIONS[m_dir[i]]},"offset":{m_off[i]},'
                     f'"length":{m_len[i]},"packets":[{pks}]{extra}}}')
    return ",".join(parts), split


def ints_text(values) -> str:
    """Integers as a JSON list's text without its brackets: "1,2,3"."""
    return ",".join(map(str, values))


_compact = json.JSONEncoder(separators=(",", ":")).encode


def value_text(v) -> str:
    """A number, bool, None or str as json.dumps writes it."""
    t = type(v)
    if t is int:
        return repr(v)
    if t is float and v - v == 0.0:              # finite (json.dumps writes NaN/Infinity)
        return repr(v)
    if t is str:
        return encode_basestring_ascii(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    return _compact(v)


def conv_text(cid, transport, client, server, state, history, hs, td, protocol, first, last,
              start, end, packets, b1, b2, n, arrays, bad, coalesced, analysis, malformed, gaps,
              choice) -> str:
    """One conversation's compact JSON, the keys in conversation_dict's order (+ `choice`,
    the text of its "framing" and "protocol_choice" keys); `hs`: (complete, frames, rtt_ms),
    `td`: (kind, initiator, frames), `n` messages in `arrays` (m_dir, m_off, m_len, m_pk, pk),
    `bad` {index: why}, `analysis`: the analysis counts' JSON text, `gaps`: (direction,
    offset, length)."""
    if n:
        m_dir, m_off, m_len, m_pk, pk = arrays
        messages, split = messages_text(n, m_dir, m_off, m_len, m_pk, pk, bad)
    else:
        messages, split = "", 0
    complete, hs_frames, rtt = hs
    kind, initiator, td_frames = td
    string = encode_basestring_ascii
    gap_text = ",".join(f'{{"direction":"{d}","offset":{o},"length":{ln},'
                        f'"text":"[{ln} bytes missing]"}}' for d, o, ln in gaps)
    return (f'{{"id":{cid},"transport":{string(transport)},"client":{string(client)},'
            f'"server":{string(server)},"state":{string(state)},'
            f'"history":{string(history)},"handshake":{{"complete":{value_text(complete)},'
            f'"frames":[{ints_text(hs_frames)}],"rtt_ms":{value_text(rtt)}}},'
            f'"teardown":{{"kind":{value_text(kind)},"initiator":{value_text(initiator)},'
            f'"frames":[{ints_text(td_frames)}]}},"protocol":{value_text(protocol)},'
            f'"first_packet":{value_text(first)},"last_packet":{value_text(last)},'
            f'"start_time":{value_text(start)},"end_time":{value_text(end)},"packets":{packets},'
            f'"bytes_c2s":{b1},"bytes_s2c":{b2},"messages":[{messages}],'
            f'"coalesced_packets":[{ints_text(coalesced)}],"split_messages":{split},'
            f'"analysis":{analysis},'
            f'"malformed":[{",".join(map(string, malformed))}],"gaps":[{gap_text}]{choice}}}')

