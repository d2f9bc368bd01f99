"""Engine API details: streamed JSON == summary_json(), lazy messages, thread-safe reads."""
import io
import json
import threading

from analyzer.engine import Engine, analyze_file, open_source
from analyzer.render.rows import row
from analyzer.render.summary_json import summary_json, write_summary_json
from tests.engine.craft import Conn, lenmsg, write


def mixed_capture(tmp_path):
    pkts = []
    a = Conn(cport=40001).handshake()
    a.send(0, lenmsg(b"ok") + lenmsg(b"split me"), sizes=[8, 10])
    a.send(0, b"\xff\xff\xff\xff" + b"bad \"quoted\" tail")
    pkts += a.pkts
    b = Conn(cport=40002).handshake()
    b.send(0, lenmsg(b"before"))
    b.seq[0] += 7
    b.send(0, lenmsg(b"after"))
    pkts += b.pkts
    return write(tmp_path / "mixed.pcap", pkts)


def test_streamed_json_equals_summary_json(tmp_path):
    eng = analyze_file(mixed_capture(tmp_path))
    buf = io.StringIO()
    write_summary_json(eng, buf)
    streamed = json.loads(buf.getvalue())
    assert streamed == json.loads(json.dumps(summary_json(eng)))
    convs = streamed["conversations"]
    assert any("malformed" in m for m in convs[0]["messages"])
    assert convs[1]["gaps"][0]["text"] == "[7 bytes missing]"
    assert convs[0]["split_messages"] == 1


def test_lazy_messages_decode_on_access(tmp_path):
    eng = analyze_file(mixed_capture(tmp_path))
    msgs = eng.conversation("tcp", 0).messages
    assert len(msgs) == 3
    assert msgs[1].summary == "len=8 'split me'" and msgs[1].fields["payload"] == "split me"
    assert msgs[-1].malformed and msgs[-1].summary.startswith("malformed:")
    assert [m.index for m in msgs[0:2]] == [0, 1]
    assert msgs[1] == eng.conversation("tcp", 0).messages[1]


def test_reads_while_another_thread_feeds(tmp_path):
    c = Conn().handshake()
    for k in range(300):
        c.send(k % 2, lenmsg(b"m%d" % k))
    path = write(tmp_path / "threads.pcap", c.pkts)
    recs = list(open_source(path))
    eng = Engine(source_path=path)
    errors = []

    def feeder():
        for r in recs:
            eng.feed(r)
        eng.finish()

    t = threading.Thread(target=feeder)
    t.start()
    seen = 0
    while t.is_alive() or seen < len(recs):
        n = eng.packet_count
        try:
            for k in range(max(1, n - 5), n + 1):
                row(eng, k)
                eng.message_slices(k)
            for conv in eng.conversations:
                len(conv.messages)
        except Exception as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)
            break
        seen = n
        if not t.is_alive() and seen == len(recs):
            break
    t.join()
    assert errors == []
    assert len(eng.conversation("tcp", 0).messages) == 300
