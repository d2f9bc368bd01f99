"""Readers on garbage: only CaptureFormatError, always terminate, never read outside the file."""
from __future__ import annotations

import os
import tempfile

from hypothesis import given, settings, strategies as st

from analyzer.errors import CaptureFormatError
from analyzer.sources.open import open_capture
from tests.sources import craft

_GOOD_PCAP = craft.pcap_bytes([(1, 0, f) for f in craft.frames(3)])
_GOOD_PCAPNG = (craft.shb() + craft.idb("<", 1) + craft.idb(">", 101)
                + b"".join(craft.epb("<", 0, i, f) for i, f in enumerate(craft.frames(3))))


def _read_all(content: bytes):
    fd, path = tempfile.mkstemp(suffix=".cap")
    try:
        os.write(fd, content)
        os.close(fd)
        try:
            src = open_capture(path)
        except CaptureFormatError as exc:
            assert "\n" not in str(exc)
            return None
        with src:
            recs = []
            for rec in src:
                assert 0 <= rec.offset and rec.offset + len(rec.data) <= len(content)
                assert content[rec.offset:rec.offset + len(rec.data)] == rec.data
                recs.append(rec)
                assert len(recs) <= len(content) // 12 + 1      # every record costs bytes
            assert all("\n" not in w for w in src.warnings)
            return recs
    finally:
        os.unlink(path)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([_GOOD_PCAP, _GOOD_PCAPNG]), st.integers(0, 400),
       st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6))
def test_mutated_captures_never_crash(base, cut, edits):
    b = bytearray(base[:cut] if cut else base)
    for pos, val in edits:
        if b:
            b[pos % len(b)] = val
    _read_all(bytes(b))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a", b""]),
       st.binary(max_size=300))
def test_random_bodies_never_crash(magic, body):
    _read_all(magic + body)
