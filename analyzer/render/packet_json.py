"""The `wirelab packets --json` object of one packet."""
from __future__ import annotations

from analyzer.decode.decoded import flags_text
from analyzer.engine.constants import DIRS, LOOPBACK_DUP
from analyzer.transport.analysis_flags import analysis_list


def packet_json(eng, n: int) -> dict:
    """Packet n of an analyzer.engine.Engine as the documented JSON object."""
    with eng.lock:
        i = eng.check_number(n)
        d = eng.decoded(n)
        bits = eng.index.analysis[i]
        s = eng.index.stream[i]
        kind = eng.flow_kind[i]
        tcp = d.transport == "tcp"
        ports = d.transport in ("tcp", "udp")
        seq, ack = (d.seq, d.ack)
        if tcp and s >= 0:
            seq, ack = eng.relative_seq(n, d)
        slices = eng.message_slices(n, d) if s >= 0 else []
        # the protocol column of the packet's row (analyzer.render.rows.row)
        protocol = (d.protocol if bits & LOOPBACK_DUP or d.malformed or not slices
                    else slices[0].message.protocol.upper())
        out = {
            "number": n,
            "time": round(eng.index.ts[i] - (eng.first_ts or 0.0), 6),
            "epoch": eng.index.ts[i],
            "src": d.src, "dst": d.dst,
            "sport": d.sport if ports else None,
            "dport": d.dport if ports else None,
            "transport": d.transport,
            "protocol": protocol,
            "flags": flags_text(d.flags) if tcp else "",
            "seq": seq if tcp else None,
            "ack": ack if tcp else None,
            "raw_seq": d.seq if tcp else None,
            "window": d.window if tcp else None,
            "len": d.payload_len if ports else 0,
            "frame_len": eng.index.origlen[i],
            "stream": None if s < 0 else s,
            "direction": None if kind == 0 else DIRS[(kind - 1) % 2],
            "analysis": analysis_list(bits),
            "messages": [{"conversation": sl.message.conv_id, "index": sl.message.index,
                          "direction": sl.message.direction,
                          "protocol": sl.message.protocol,
                          "start": sl.start, "end": sl.end,
                          "first": sl.first, "last": sl.last,
                          "length": sl.message.length}
                         for sl in slices],
        }
        if d.malformed:
            out["malformed"] = d.malformed
        return out
