"""Unit tests of analyzer.reassembly.Reassembler (no captures: segments fed directly)."""
from analyzer.decode.decoded import FIN, SYN
from analyzer.transport.analysis_flags import ANALYSIS_BIT
from analyzer.transport.reassembly import Reassembler

OC = ANALYSIS_BIT["overlap_conflict"]
CAP = ANALYSIS_BIT["buffer_cap"]


class Sink:
    def __init__(self):
        self.out = []      # ("data", off, packet, bytes) | ("gap", off, n)
        self.payloads = {}

    def data(self, off, packet, start, data):
        self.out.append(("data", off, packet, bytes(data)))

    def gap(self, off, n):
        self.out.append(("gap", off, n))

    def stream(self):
        return b"".join(x[3] if x[0] == "data" else b"?" * x[2] for x in self.out)

    def make(self, **kw):
        return Reassembler(self.data, self.gap, fetch=self.payloads.get, **kw)

    def seg(self, r, packet, seq, data, flags=0):
        self.payloads[packet] = data
        return r.segment(packet, seq, flags, data)


def test_in_order_after_syn():
    s = Sink()
    r = s.make()
    s.seg(r, 1, 100, b"", SYN)
    s.seg(r, 2, 101, b"abc")
    s.seg(r, 3, 104, b"def")
    assert s.stream() == b"abcdef"
    assert [x[1] for x in s.out] == [0, 3]


def test_text_after_the_fin_is_not_part_of_the_stream():
    """A FIN ends the stream (RFC 793: a receiver ignores segment text after it): data sent
    after it, in order or held before the FIN was seen, is not delivered and leaves no gap."""
    s = Sink()
    r = s.make()
    s.seg(r, 1, 100, b"", SYN)
    s.seg(r, 2, 101, b"abc")
    s.seg(r, 3, 110, b"zz")                   # beyond the FIN, seen before it: held
    s.seg(r, 4, 104, b"de", FIN)              # data and FIN: the stream ends at offset 5
    s.seg(r, 5, 107, b"late")                 # after the FIN (its sequence number is 106)
    s.seg(r, 6, 105, b"ex")                   # crosses the FIN: only what is before it
    r.finish()
    assert s.stream() == b"abcde"
    assert r.gaps == [] and r.held_bytes == 0


def test_reordered_and_duplicated_segments():
    s = Sink()
    r = s.make()
    s.seg(r, 1, 0, b"", SYN)
    s.seg(r, 2, 5, b"ef")       # held
    s.seg(r, 3, 7, b"gh")       # held
    assert s.seg(r, 4, 5, b"ef") == 0      # duplicate of a held segment
    assert s.out == [] and r.held_bytes == 4
    s.seg(r, 5, 1, b"abcd")     # fills the hole: everything comes out in order
    assert s.stream() == b"abcdefgh"
    assert [x[2] for x in s.out] == [5, 2, 3]
    assert s.seg(r, 6, 1, b"abcdef") == 0  # retransmission of delivered bytes: nothing new
    r.finish()
    assert s.stream() == b"abcdefgh" and r.gaps == []


def test_first_copy_wins_and_conflict_flagged():
    s = Sink()
    r = s.make()
    s.seg(r, 1, 0, b"", SYN)
    assert s.seg(r, 2, 1, b"hello") == 0
    assert s.seg(r, 3, 1, b"hello") == 0            # same bytes: plain retransmission
    assert s.seg(r, 4, 1, b"HELLO") & OC            # different bytes: flagged
    assert s.seg(r, 5, 4, b"LOworld") & OC          # partial overlap, differing part
    assert s.stream() == b"helloworld"              # first copy kept, new part appended


def test_overlap_among_held_segments():
    s = Sink()
    r = s.make()
    s.seg(r, 1, 0, b"", SYN)
    assert s.seg(r, 2, 5, b"EFGH") == 0
    assert s.seg(r, 3, 3, b"cdXXgh") & OC   # overlaps held "EFGH" with different bytes
    s.seg(r, 4, 1, b"ab")
    assert s.stream() == b"abcdEFGH"
    assert [x[2] for x in s.out] == [4, 3, 2]


def test_gap_reported_never_zero_filled():
    s = Sink()
    r = s.make()
    s.seg(r, 1, 0, b"", SYN)
    s.seg(r, 2, 1, b"abc")
    s.seg(r, 3, 10, b"xyz")
    r.finish()
    assert s.out == [("data", 0, 2, b"abc"), ("gap", 3, 6), ("data", 9, 3, b"xyz")]
    assert r.gaps == [(3, 6)]
    assert b"\x00" not in s.stream()


def test_held_buffer_cap_declares_the_hole_lost():
    s = Sink()
    r = s.make(max_held=10)
    s.seg(r, 1, 0, b"", SYN)
    s.seg(r, 2, 1, b"ab")
    assert s.seg(r, 3, 20, b"12345") == 0
    bits = s.seg(r, 4, 25, b"6789012")    # 12 held > 10
    assert bits & CAP and r.cap_hit
    assert ("gap", 2, 17) in s.out
    assert s.stream().endswith(b"123456789012")
    assert r.held_bytes == 0


def test_sequence_wrap():
    s = Sink()
    r = s.make()
    isn = 0xFFFFFF00
    s.seg(r, 1, isn, b"", SYN)
    data = bytes(range(256)) * 2
    seq = isn + 1
    for k in range(0, len(data), 100):
        s.seg(r, 2 + k, (seq + k) % 2**32, data[k:k + 100])
    assert s.stream() == data
    # a retransmission of the first bytes (before the wrap) is recognised as old data
    assert s.seg(r, 99, seq, data[:10]) == 0
    assert s.stream() == data


def test_mid_stream_start_and_syn_with_data():
    s = Sink()
    r = s.make()
    s.seg(r, 1, 5000, b"mid")
    s.seg(r, 2, 5003, b"dle")
    assert s.stream() == b"middle"
    s2 = Sink()
    r2 = s2.make()
    s2.seg(r2, 1, 77, b"syn-data", SYN)     # data rides on the SYN, starts at ISN+1
    s2.seg(r2, 2, 86, b"!")
    assert s2.stream() == b"syn-data!"


from hypothesis import given, settings, strategies as st


@settings(max_examples=150, deadline=None)
@given(data=st.binary(min_size=1, max_size=300), isn=st.integers(0, 2**32 - 1),
       cuts=st.lists(st.integers(1, 40), min_size=1, max_size=40), seed=st.integers(0, 10**6),
       dups=st.integers(0, 5))
def test_any_segmentation_order_and_duplication_gives_the_stream(data, isn, cuts, seed, dups):
    import random
    rng = random.Random(seed)
    segs, pos, k = [], 0, 0
    while pos < len(data):
        n = cuts[k % len(cuts)]
        segs.append((pos, data[pos:pos + n]))
        pos += n
        k += 1
    order = segs[:]
    rng.shuffle(order)
    order += [rng.choice(segs) for _ in range(dups)]
    s = Sink()
    r = s.make()
    s.seg(r, 1, isn, b"", SYN)
    for i, (off, chunk) in enumerate(order):
        assert s.seg(r, 2 + i, (isn + 1 + off) % 2**32, chunk) & OC == 0
    r.finish()
    assert s.stream() == data and r.gaps == [] and r.held_bytes == 0
    offs = [x[1] for x in s.out]
    assert offs == sorted(offs)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(min_size=1, max_size=200), isn=st.integers(0, 2**32 - 1),
       cuts=st.lists(st.integers(1, 30), min_size=1, max_size=20), seed=st.integers(0, 10**6),
       fin=st.booleans(), syn=st.booleans())
def test_take_next_is_segments_common_case(data, isn, cuts, seed, fin, syn):
    """The engine's packet loop offers each segment to take_next first and hands the bytes to
    the sink itself when it returns an offset: deliveries, chunk map and counts must be
    segment()'s, on shuffled, duplicated, SYN and FIN segments alike."""
    import random
    rng = random.Random(seed)
    segs, pos, k = [], 0, 0
    while pos < len(data):
        n = cuts[k % len(cuts)]
        segs.append((pos, data[pos:pos + n], 0))
        pos += n
        k += 1
    order = segs[:]
    if rng.random() < 0.5:
        rng.shuffle(order)
    order += [rng.choice(segs) for _ in range(rng.randint(0, 3))]
    if fin:
        end = rng.choice([len(data), rng.randint(0, len(data))])   # text after it: not stream
        order.insert(rng.randint(0, len(order)), (end, b"", FIN))
    plain, direct = Sink(), Sink()
    r1, r2 = plain.make(), direct.make()
    taken = 0
    for s, r in ((plain, r1), (direct, r2)):
        if syn:
            s.seg(r, 1, isn, b"", SYN)
        for i, (off, chunk, flags) in enumerate(order):
            seq = (isn + 1 + off) % 2**32
            s.payloads[2 + i] = chunk
            at = r.take_next(2 + i, seq, flags, len(chunk)) if s is direct else -1
            if at >= 0:
                s.data(at, 2 + i, 0, chunk)
                taken += 1
            else:
                r.segment(2 + i, seq, flags, chunk)
        r.finish()
    assert direct.out == plain.out
    assert (r2.next_off, r2.delivered, r2.gaps, r2.fin_off) == \
        (r1.next_off, r1.delivered, r1.gaps, r1.fin_off)
    assert [list(a) for a in (r2.chunks.offset, r2.chunks.packet, r2.chunks.start,
                              r2.chunks.length)] == \
        [list(a) for a in (r1.chunks.offset, r1.chunks.packet, r1.chunks.start, r1.chunks.length)]
    if syn and order == segs:                       # in order after a SYN: all taken directly
        assert taken == len(segs)
