"""The lists of numbers in a conversation of the summary JSON: its "messages", written from
its message arrays (analyzer.engine.conv_state: m_dir, m_off, m_len, m_pk, pk, m_bad), and
its frame number lists.  The compiled twin of analyzer.render.summary_json cimports the C
versions instead (analyzer/render/c_json_lists.pxd: the same text, the digits written into
one buffer)."""
from __future__ import annotations

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
