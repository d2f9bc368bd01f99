"""Messages: coalesced/split detection, naive reads, decode-as, chat sidecar, UDP."""
import json
import struct

from analyzer.sources.sidecar import AppIO, sidecar_path
from analyzer.engine import Engine, analyze_file, open_source
from analyzer.render.rows import row
from analyzer.render.packet_json import packet_json
from analyzer.render.summary_json import summary_json
from scapy.all import IP, UDP, Ether
from tests.engine.craft import C, S, Conn, lenmsg, write


def test_coalesced_and_split_on_lenmsg(tmp_path):
    c = Conn().handshake()
    a, b, d = lenmsg(b"aaaa"), lenmsg(b"bbbbbbbb"), lenmsg(b"c" * 40)
    # packet 4: a + first 3 bytes of b ; packet 5: rest of b + first 10 of d ; packet 6: rest of d
    stream = a + b + d
    c.send(0, stream, sizes=[len(a) + 3, len(b) - 3 + 10, len(d) - 10])
    eng = analyze_file(write(tmp_path / "sticky.pcap", c.pkts))
    conv = eng.conversation("tcp", 0)
    assert [m.packets for m in conv.messages] == [[4], [4, 5], [5, 6]]
    assert conv.coalesced_packets == [4, 5]
    assert conv.split_messages == 2
    sl = eng.message_slices(5)
    assert [(s.message.index, s.start, s.end, s.first, s.last) for s in sl] == [
        (1, 0, len(b) - 3, False, True), (2, len(b) - 3, len(b) - 3 + 10, True, False)]
    assert {"coalesced", "split"} <= row(eng, 5).tags
    assert row(eng, 4).protocol == "LENMSG"
    js = summary_json(eng)["conversations"][0]
    assert js["coalesced_packets"] == [4, 5] and js["split_messages"] == 2
    assert [m["packets"] for m in js["messages"]] == [[4], [4, 5], [5, 6]]


def test_decode_as_and_native_variant(tmp_path):
    c = Conn(sport=7777).handshake()
    c.send(0, struct.pack("<i", 3) + b"abc" + struct.pack("<i", 2) + b"de")
    path = write(tmp_path / "da.pcap", c.pkts)
    assert analyze_file(path).conversation("tcp", 0).protocol in (None, "lenmsg")
    eng = analyze_file(path, decode_as={7777: "lenmsg:native"})
    conv = eng.conversation("tcp", 0)
    assert conv.protocol == "lenmsg"
    assert [m.summary for m in conv.messages] == ["len=3 'abc'", "len=2 'de'"]
    # network byte order on the same bytes: length 0x03000000 > nothing left -> malformed at EOF
    eng2 = analyze_file(path, decode_as={7777: "lenmsg"})
    assert eng2.conversation("tcp", 0).messages[0].malformed


def test_codec_error_marks_rest_of_direction_malformed(tmp_path):
    c = Conn().handshake()
    c.send(0, lenmsg(b"fine") + b"\xff\xff\xff\xff" + b"junk" * 5, sizes=[8, 8, 16])
    c.send(1, lenmsg(b"FINE"))
    eng = analyze_file(write(tmp_path / "bad.pcap", c.pkts))
    conv = eng.conversation("tcp", 0)
    c2s = [m for m in conv.messages if m.direction == "c2s"]
    assert c2s[0].summary == "len=4 'fine'" and not c2s[0].malformed
    assert len(c2s) == 2 and "too large" in c2s[1].malformed
    assert c2s[1].offset == 8 and c2s[1].length == 24 and c2s[1].packets == [5, 6]
    assert [m.summary for m in conv.messages if m.direction == "s2c"] == ["len=4 'FINE'"]
    assert conv.malformed and "too large" in conv.malformed[0]


def test_naive_reads_model(tmp_path):
    c = Conn(sport=9000).handshake()
    c.send(1, b"A" * 3000)           # one big packet: split into 1024-byte reads
    c.send(1, b"B" * 10)
    pkts = c.pkts
    # two packets with the same arrival instant merge into one read
    p1, p2 = c.segment(1, b"C" * 5), c.segment(1, b"D" * 7)
    p2.time = p1.time
    pkts += [p1, p2]
    eng = analyze_file(write(tmp_path / "naive.pcap", pkts))
    conv = eng.conversations[0]
    assert eng.naive_reads(conv, "s2c") == [(0, 1024), (1024, 1024), (2048, 952), (3000, 10), (3010, 12)]
    assert eng.naive_reads(conv, "s2c", bufsize=4000) == [(0, 3000), (3000, 10), (3010, 12)]
    assert eng.naive_reads(conv, "c2s") == []
    # a slow reader (busy 1 s after each read) merges everything that arrived meanwhile
    assert eng.naive_reads(conv, "s2c", bufsize=4000, read_interval=1.0) == [(0, 3022)]


def test_naive_reads_stop_at_gap(tmp_path):
    c = Conn(sport=9000).handshake()
    c.send(1, b"x" * 10)
    c.seq[1] += 5
    c.send(1, b"y" * 10)
    eng = analyze_file(write(tmp_path / "naivegap.pcap", c.pkts))
    assert eng.naive_reads(eng.conversations[0], "s2c") == [(0, 10)]


def test_chat_newlines_without_sidecar(tmp_path):
    c = Conn(sport=9000).handshake()
    c.send(0, b"hi\nthere\nrest", sizes=[4, 9])
    eng = analyze_file(write(tmp_path / "chat.pcap", c.pkts))
    conv = eng.conversations[0]
    assert conv.protocol == "chat"
    assert [(m.offset, m.length) for m in conv.messages] == [(0, 3), (3, 6), (9, 4)]
    assert [m.packets for m in conv.messages] == [[4], [4, 5], [5]]
    assert conv.coalesced_packets == [4, 5]


def test_chat_sidecar_gives_boundaries(tmp_path):
    c = Conn(sport=9000).handshake()
    c.send(0, b"abcdefghij")          # two sends of 5 bytes coalesced in one segment (Nagle)
    c.send(1, b"ABCDEFGHIJ", sizes=[3, 7])
    path = write(tmp_path / "chatside.pcap", c.pkts)
    client, server = f"{C}:40000", f"{S}:9000"
    recs = [dict(client=client, server=server, transport="tcp", side="client", op="send", dir="c2s",
                 offset=0, length=5, time=1.0),
            dict(client=client, server=server, transport="tcp", side="client", op="send", dir="c2s",
                 offset=5, length=5, time=1.1),
            dict(client=client, server=server, transport="tcp", side="server", op="recv", dir="c2s",
                 offset=0, length=10, time=1.2),
            dict(client=client, server=server, transport="tcp", side="server", op="send", dir="s2c",
                 offset=0, length=10, time=1.3)]
    with open(sidecar_path(path), "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    eng = analyze_file(path)
    conv = eng.conversations[0]
    assert [(m.direction, m.offset, m.length, m.packets) for m in conv.messages] == [
        ("c2s", 0, 5, [4]), ("c2s", 5, 5, [4]), ("s2c", 0, 10, [5, 6])]
    assert conv.coalesced_packets == [4]
    assert conv.messages[0].summary == "len=5 'abcde'"
    # without the sidecar: no newline, the whole direction is one message
    eng2 = analyze_file(path, sidecar=None)
    assert [(m.direction, m.length) for m in eng2.conversations[0].messages] == [("c2s", 10), ("s2c", 10)]


def test_udp_each_datagram_one_message(tmp_path):
    pkts = []
    t = 1700000000.0
    for k, (src, dst, sp, dp, data) in enumerate([
            (C, S, 5555, 9005, b"ping"), (S, C, 9005, 5555, b"PING"),
            (C, S, 5555, 9005, b"two\nlines"), (S, C, 9005, 5555, b"TWO\nLINES")]):
        p = Ether() / IP(src=src, dst=dst) / UDP(sport=sp, dport=dp) / data
        p.time = t + k * 0.01
        pkts.append(p)
    eng = analyze_file(write(tmp_path / "udp.pcap", pkts))
    conv = eng.conversation("udp", 0)
    assert conv.protocol == "udpecho"
    assert [(m.direction, m.length, m.packets) for m in conv.messages] == [
        ("c2s", 4, [1]), ("s2c", 4, [2]), ("c2s", 9, [3]), ("s2c", 9, [4])]
    assert eng.message_slices(3)[0].message.length == 9
    assert packet_json(eng, 2)["stream"] == 0 and packet_json(eng, 2)["transport"] == "udp"


def test_push_based_feeding_shows_messages_when_complete(tmp_path):
    c = Conn().handshake()
    c.send(0, lenmsg(b"abcdef"), sizes=[5, 5])
    path = write(tmp_path / "push.pcap", c.pkts)
    eng = Engine()                       # live mode: frames kept in memory
    recs = list(open_source(path))
    for rec in recs[:4]:
        eng.feed(rec._replace(offset=-1))
    assert eng.conversation("tcp", 0).messages == []      # half a message so far
    assert row(eng, 4).protocol == "TCP"
    eng.feed(recs[4]._replace(offset=-1))
    assert [m.packets for m in eng.conversation("tcp", 0).messages] == [[4, 5]]
    assert eng.frame_bytes(5) == recs[4].data
    eng.finish()
    assert eng.packet_count == 5


def test_sidecar_sessions_follow_four_tuple_reuse(tmp_path):
    a = Conn(sport=9000, c_isn=10).handshake()
    a.send(0, b"aaabb")
    b = Conn(sport=9000, c_isn=99999).handshake()
    b.t = a.t + 5
    b.send(0, b"cdddd")
    path = write(tmp_path / "reuse_chat.pcap", a.pkts + b.pkts)
    client, server = f"{C}:40000", f"{S}:9000"
    sends = [(0, 3), (3, 2), (0, 1), (1, 4)]          # two connections: 3+2, then 1+4
    with open(sidecar_path(path), "w") as f:
        for k, (off, ln) in enumerate(sends):
            f.write(json.dumps(dict(client=client, server=server, transport="tcp", side="client",
                                    op="send", dir="c2s", offset=off, length=ln,
                                    time=1.0 + k)) + "\n")
    eng = analyze_file(path)
    assert [[(m.offset, m.length) for m in c.messages] for c in eng.conversations] == [
        [(0, 3), (3, 2)], [(0, 1), (1, 4)]]
    m = eng.conversations[1].messages[1]
    assert eng.message_bytes(eng.conversations[1], m) == b"dddd"


def test_udp_naive_reads_and_follow(tmp_path):
    pkts = []
    for k, data in enumerate([b"x" * 2000, b"yy"]):
        p = Ether() / IP(src=C, dst=S) / UDP(sport=5000, dport=9005) / data
        p.time = 1700000000.0 + k
        pkts.append(p)
    eng = analyze_file(write(tmp_path / "udp2.pcap", pkts))
    conv = eng.conversation("udp", 0)
    # a datagram socket returns at most one datagram per recv, truncated to the buffer
    assert eng.naive_reads(conv, "c2s") == [(0, 1024), (0, 2)]
    chunks = eng.follow(conv)
    assert [(ch.packet, ch.offset, len(ch.data)) for ch in chunks] == [(1, 0, 2000), (2, 2000, 2)]


def test_codec_bug_marks_direction_malformed_not_a_crash(tmp_path, monkeypatch):
    import dataclasses

    from dissectors import registry

    class Broken:
        receive_sizes = None            # the codec interface: no wire-length fast path

        def __init__(self, role, **kw):
            pass

        def receive_data(self, data):
            raise ValueError("boom")

    spec = dataclasses.replace(registry.REGISTRY["lenmsg"], connection=Broken)
    monkeypatch.setitem(registry.REGISTRY, "lenmsg", spec)
    c = Conn(sport=7777).handshake()
    c.send(0, lenmsg(b"abc"))
    eng = analyze_file(write(tmp_path / "bug.pcap", c.pkts), decode_as={7777: "lenmsg"})
    conv = eng.conversation("tcp", 0)
    assert len(conv.messages) == 1 and "decoder failed: ValueError: boom" in conv.messages[0].malformed
    assert row(eng, 4).protocol == "LENMSG" and "malformed" in row(eng, 4).tags
