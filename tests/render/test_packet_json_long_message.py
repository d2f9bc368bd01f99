"""Per-packet output costs the same whatever the packet count of the message a packet
carries: one lenmsg message spread over thousands of segments."""
from __future__ import annotations

import struct

from analyzer.engine import analyze_file
from analyzer.engine.messages import EngineMessages
from analyzer.render.packet_json import packet_json
from analyzer.render.rows import row

_IP = struct.Struct("!BBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIBBHHH")
LO = bytes([127, 0, 0, 1])


def _frame(sport, dport, seq, ack, flags, payload=b""):
    tcp = _TCP.pack(sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ip = _IP.pack(0x45, 0, 40 + len(payload), 1, 0x4000, 64, 6, 0, LO, LO)
    return bytes(12) + b"\x08\x00" + ip + tcp + payload


def long_message_capture(path, size: int, segment: int) -> int:
    frames = [_frame(40000, 9001, 1000, 0, 0x02), _frame(9001, 40000, 5000, 1001, 0x12),
              _frame(40000, 9001, 1001, 5001, 0x10)]
    data = struct.pack("!I", size) + bytes(size)
    for pos in range(0, len(data), segment):
        frames.append(_frame(40000, 9001, 1001 + pos, 5001, 0x18, data[pos:pos + segment]))
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for k, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, k, len(fr), len(fr)) + fr)
    return len(frames)


def test_packet_output_never_lists_the_whole_message(tmp_path, monkeypatch):
    n = long_message_capture(tmp_path / "long.pcap", 3000 * 100, 100)
    eng = analyze_file(str(tmp_path / "long.pcap"))
    conv = eng.conversations[0]
    assert len(conv.messages) == 1 and conv.messages[0].packet_count == n - 3
    calls = []
    real = EngineMessages.message

    def message(self, cs, i):           # a Message whose packet list records being read
        m = real(self, cs, i)
        lazy = m._packets
        if callable(lazy):
            m._packets = lambda: calls.append(i) or lazy()
        return m

    monkeypatch.setattr(EngineMessages, "message", message)
    for k in range(4, n + 1):
        pj = packet_json(eng, k)
        assert pj["messages"][0]["index"] == 0
        assert pj["protocol"] == "LENMSG" and "split" in row(eng, k).tags
    # what was printed per packet never needed the message's 3000-entry packet list
    assert calls == []
    first, last = packet_json(eng, 4)["messages"][0], packet_json(eng, n)["messages"][0]
    assert first["first"] and not first["last"] and last["last"] and not last["first"]
