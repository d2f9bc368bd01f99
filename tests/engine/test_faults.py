"""DESIGN.md faults 8-13 on small captures crafted with Scapy, analysed by the Engine."""
import random

from analyzer.engine import analyze_file
from analyzer.render.rows import row
from analyzer.render.packet_json import packet_json
from analyzer.render.summary_json import summary_json
from tests.engine.craft import Conn, lenmsg, write

MSGS = [b"hello", b"", b"x" * 300, b"sticky", bytes(range(256))]
C2S = b"".join(lenmsg(m) for m in MSGS)
S2C = b"".join(lenmsg(m.upper()) for m in MSGS)


def shape(eng, conv=0):
    """What must not depend on segmentation: (direction, offset, length, summary, malformed)."""
    c = eng.conversation("tcp", conv)
    return sorted((m.direction, m.offset, m.length, m.summary, m.malformed) for m in c.messages)


def whole(tmp_path, name="whole.pcap", **kw):
    c = Conn(**kw).handshake()
    c.send(0, C2S).send(1, S2C).fin()
    return analyze_file(write(tmp_path / name, c.pkts))


def test_fault8_one_byte_segments_same_messages(tmp_path):
    ref = whole(tmp_path)
    c = Conn().handshake()
    c.send(0, C2S, sizes=[1] * len(C2S)).send(1, S2C, sizes=[1] * len(S2C)).fin()
    eng = analyze_file(write(tmp_path / "split.pcap", c.pkts))
    assert len(shape(ref)) == 2 * len(MSGS)
    assert shape(eng) == shape(ref)
    conv = eng.conversation("tcp", 0)
    big = [m for m in conv.messages if m.length == 304 and m.direction == "c2s"][0]
    assert len(big.packets) == 304 and big.split
    assert conv.split_messages == 2 * len(MSGS)
    assert conv.coalesced_packets == []
    assert not conv.malformed


def test_fault9_reordered_and_duplicated(tmp_path):
    ref = whole(tmp_path)
    c = Conn().handshake()
    segs = []
    pos = 0
    for n in [7, 1, 50, 3, 200, 13, 99, 2, 400, 1000]:
        if pos >= len(C2S):
            break
        segs.append(c.segment(0, C2S[pos:pos + n]))
        pos += n
    assert pos >= len(C2S)
    rng = random.Random(9)
    shuffled = segs[:]
    rng.shuffle(shuffled)
    shuffled += [segs[0], segs[3], segs[5]]         # duplicates, after the fact
    shuffled.insert(2, segs[4])                     # and one early duplicate
    c.pkts += shuffled
    c.send(1, S2C).fin()
    eng = analyze_file(write(tmp_path / "reord.pcap", c.pkts))
    assert shape(eng) == shape(ref)
    conv = eng.conversation("tcp", 0)
    assert conv.gaps == [] and not conv.malformed
    # every message's packets are the packets that first carried its bytes, in stream order
    first = [m for m in conv.messages if m.direction == "c2s"][0]
    assert first.length == 9
    assert first.packets == [c.pkts.index(segs[k]) + 1 for k in (0, 1, 2)]   # 7+1+1 bytes


def test_fault10_overlap_with_different_bytes(tmp_path):
    c = Conn().handshake()
    good = lenmsg(b"first copy")
    c.send(0, good)
    bad = c.segment(0, lenmsg(b"FIRST COPY"), seq=c.seq[0] - len(good))   # same seq, new bytes
    c.pkts.append(bad)
    c.send(0, lenmsg(b"after")).fin()
    eng = analyze_file(write(tmp_path / "overlap.pcap", c.pkts))
    conv = eng.conversation("tcp", 0)
    assert [m.summary for m in conv.messages] == ["len=10 'first copy'", "len=5 'after'"]
    n_bad = c.pkts.index(bad) + 1
    assert "overlap_conflict" in packet_json(eng, n_bad)["analysis"]
    assert conv.analysis.get("overlap_conflict") == 1
    assert "overlap_conflict" in row(eng, n_bad).info


def test_fault11_gap_never_filled(tmp_path):
    c = Conn().handshake()
    c.send(0, lenmsg(b"before"))
    c.seq[0] += 30                                  # 30 bytes never captured
    c.send(0, lenmsg(b"after-the-gap")).fin()
    eng = analyze_file(write(tmp_path / "gap.pcap", c.pkts))
    conv = eng.conversation("tcp", 0)
    assert conv.messages[0].summary == "len=6 'before'" and conv.messages[0].malformed is None
    assert conv.gaps == [("c2s", 10, 30)]
    tail = conv.messages[-1]
    assert tail.malformed and "[30 bytes missing]" in tail.malformed
    chunks = eng.follow(conv)
    gap = [ch for ch in chunks if ch.gap]
    assert len(gap) == 1 and gap[0].gap == 30 and gap[0].data == b""
    data = b"".join(ch.data for ch in chunks if ch.direction == "c2s")
    assert data == lenmsg(b"before") + lenmsg(b"after-the-gap")    # never zero-filled
    js = summary_json(eng)["conversations"][0]
    assert js["gaps"][0]["text"] == "[30 bytes missing]"


def test_fault11_buffer_cap(tmp_path):
    c = Conn().handshake()
    c.send(0, lenmsg(b"ok"))
    c.seq[0] += 5                                  # hole never filled
    c.send(0, b"z" * 3000, sizes=[1000, 1000, 1000])   # held behind the hole
    c.fin()
    path = write(tmp_path / "cap.pcap", c.pkts)
    from analyzer.engine import Engine, open_source
    eng = Engine(source_path=path, max_held=1500)
    for rec in open_source(path):
        eng.feed(rec)
    eng.finish()
    conv = eng.conversation("tcp", 0)
    assert conv.analysis.get("buffer_cap", 0) >= 1
    assert conv.gaps and conv.gaps[0] == ("c2s", 6, 5)
    flagged = [n for n in range(1, eng.packet_count + 1) if "buffer_cap" in packet_json(eng, n)["analysis"]]
    assert flagged


def test_fault12_sequence_wrap(tmp_path):
    ref = whole(tmp_path)
    c = Conn(c_isn=0xFFFFFF00, s_isn=0xFFFFFFF0).handshake()
    c.send(0, C2S, sizes=[100] * (len(C2S) // 100) + [len(C2S) % 100])
    c.send(1, S2C, sizes=[7] * (len(S2C) // 7) + [len(S2C) % 7])
    c.fin()
    eng = analyze_file(write(tmp_path / "wrap.pcap", c.pkts))
    assert shape(eng) == shape(ref)
    assert eng.conversation("tcp", 0).gaps == []
    # relative sequence numbers keep counting across the wrap
    last_data = max(n for n in range(1, eng.packet_count + 1)
                    if packet_json(eng, n)["len"] and packet_json(eng, n)["direction"] == "c2s")
    pj = packet_json(eng, last_data)
    assert pj["seq"] == 1 + len(C2S) - pj["len"] and pj["raw_seq"] < 1000


def test_fault13_mid_stream_start(tmp_path):
    c = Conn().handshake()
    c.send(0, lenmsg(b"one") + lenmsg(b"two")).send(1, lenmsg(b"ONE"))
    pkts = c.pkts[3:]                         # capture starts after the handshake
    eng = analyze_file(write(tmp_path / "mid.pcap", pkts))
    conv = eng.conversation("tcp", 0)
    assert [m.summary for m in conv.messages if m.direction == "c2s"] == ["len=3 'one'", "len=3 'two'"]
    assert conv.handshake["complete"] is False


def test_fault13_syn_with_data(tmp_path):
    c = Conn()
    syn = c._pkt(0, "S", c.seq[0], 0, lenmsg(b"fastopen"))
    c.pkts.append(syn)
    c.pkts.append(c._pkt(1, "SA", c.seq[1], c.seq[0] + 1 + 12))
    c.seq = [c.seq[0] + 1 + 12, c.seq[1] + 1]
    c.send(0, lenmsg(b"next"))
    eng = analyze_file(write(tmp_path / "syndata.pcap", c.pkts))
    conv = eng.conversation("tcp", 0)
    assert [m.summary for m in conv.messages] == ["len=8 'fastopen'", "len=4 'next'"]
    assert conv.messages[0].packets == [1]


def test_fault13_data_after_rst(tmp_path):
    c = Conn().handshake()
    c.send(0, lenmsg(b"before-rst"))
    c.pkts.append(c._pkt(1, "R", c.seq[1], 0))
    late = c.segment(0, lenmsg(b"late"))
    c.pkts.append(late)
    eng = analyze_file(write(tmp_path / "rst.pcap", c.pkts))
    assert len(eng.conversations) == 1
    conv = eng.conversation("tcp", 0)
    assert conv.messages[0].summary == "len=10 'before-rst'"
    # the late bytes are still shown (as Wireshark does), attributed to their packet
    assert [m.packets for m in conv.messages][-1] == [c.pkts.index(late) + 1]
    rst_number = c.pkts.index(late)            # the packet just before `late`
    assert "rst" in row(eng, rst_number).tags


def test_fault13_four_tuple_reuse(tmp_path):
    a = Conn(c_isn=1000).handshake()
    a.send(0, lenmsg(b"first")).fin()
    b = Conn(c_isn=777777).handshake()
    b.t = a.t + 1
    b.send(0, lenmsg(b"second")).fin()
    eng = analyze_file(write(tmp_path / "reuse.pcap", a.pkts + b.pkts))
    convs = eng.conversations
    assert len(convs) == 2
    assert [m.summary for m in convs[0].messages] == ["len=5 'first'"]
    assert [m.summary for m in convs[1].messages] == ["len=6 'second'"]
    assert convs[1].first_packet == len(a.pkts) + 1
    assert eng.stream_of(len(a.pkts) + 1) == 1


def test_snaplen_cut_segments_become_gaps_not_held(tmp_path):
    import struct
    c = Conn().handshake()
    c.send(0, lenmsg(b"a" * 100)).send(0, lenmsg(b"b" * 100)).send(0, lenmsg(b"c"))
    path = str(tmp_path / "snap.pcap")
    with open(path, "wb") as f:                  # snaplen 90: frames cut at 90 bytes
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 90, 1))
        for k, p in enumerate(c.pkts):
            raw = bytes(p)
            f.write(struct.pack("<IIII", 1700000000, k, min(len(raw), 90), len(raw)))
            f.write(raw[:90])
    eng = analyze_file(path)
    conv = eng.conversation("tcp", 0)
    # each 104-byte segment lost its last 68 bytes (54 header + 36 payload saved)
    assert [g[1:] for g in conv.gaps] == [(36, 68), (140, 68)]
    assert "size_limited" in packet_json(eng, 4)["analysis"]
    assert conv.messages[0].malformed and "[68 bytes missing]" in conv.messages[0].malformed
    # pushed one by one: the gap is known at once, nothing piles up behind it
    from analyzer.engine import Engine, open_source
    live = Engine(source_path=path)
    for rec in open_source(path):
        live.feed(rec)
    assert live.conversation("tcp", 0).gaps == conv.gaps      # before finish()
