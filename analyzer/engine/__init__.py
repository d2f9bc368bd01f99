"""The push-based analysis engine: one packet at a time in, conversations and messages out.

    from analyzer.engine import Engine, analyze_file

    eng = analyze_file("x.pcap", decode_as={9999: "lenmsg"})   # reads, feeds, finishes
    # or, push-based (live capture, the TUI's worker):
    eng = Engine(decode_as=None, sidecar=None)
    for rec in source: eng.feed(rec)        # rec: analyzer.sources.record.Record
    eng.finish()                            # end of input: flush codecs (EOF), close gaps

Per packet (numbers are 1-based, file order, like tshark's frame.number):
    eng.packet_count, eng.frame_bytes(n), eng.decoded(n), eng.analysis_bits(n),
    eng.stream_of(n), eng.direction_of(n), eng.relative_seq(n), eng.message_slices(n),
    eng.conversation_of(n); the per-packet columns are `eng.index` (PacketIndex).
Per conversation (ids 0-based in order of first packet, tcp and udp numbered apart like
tshark's tcp.stream / udp.stream; `Conversation.key` = (transport, id)):
    eng.conversations, eng.conversation(transport, id), eng.follow(conv),
    eng.naive_reads(conv, direction, bufsize=1024), eng.message_bytes(conv, message),
    eng.warnings.
Rows, packet JSON and the summary are drawn by analyzer.render.

The modules, in the order a packet meets them:
    types.py            the result types (Row, Message, MessageSlice, FollowChunk, Conversation)
    packet_index.py     per-packet columns in compact arrays
    conv_state.py       per-conversation state (messages in arrays), the lazy MessageList
    retired.py          closed TCP conversations packed small, unpacked for views
    conv_table.py       every conversation's state by position and by (transport, id)
    protocol_choice.py  which codec cuts a conversation (decode-as, port, probe, sidecar)
    message_cutting.py  one direction's reassembled bytes cut into messages by a codec
    loopback.py         which copy of a packet on lo a Linux cooked frame is
    feeding.py          the per-packet loop: columns filled, packet into its conversation
    core.py             EngineCore: feed / finish, frames, conversations made and packed
    messages.py         messages on demand: bytes, summaries, per-packet slices
    queries.py          Engine: per-packet and per-conversation queries, follow, naive reads
    loader.py           a capture file opened and fed into an Engine
"""
from analyzer.engine.loader import analyze_file, new_engine_for, open_source
from analyzer.engine.queries import Engine
from analyzer.engine.types import Conversation, FollowChunk, Message, MessageSlice, Row

__all__ = ["Conversation", "Engine", "FollowChunk", "Message", "MessageSlice", "Row",
           "analyze_file", "new_engine_for", "open_source"]
