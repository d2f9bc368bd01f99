"""Live capture: Scapy compiles the BPF filter, a raw AF_PACKET socket reads the frames.

No per-packet Scapy dissection happens here (Scapy's sniff() loses most packets at 5k/s).
A reader drains the socket as fast as it can, appends the raw bytes to a pcap file and
queues `Record`s for the engine.  By default the reader is a forked child process (like
Wireshark's dumpcap): whatever this process does with the Records never starves it of the
GIL; it sends them back through a pipe.  On `lo` each packet is seen twice (going out and
coming in): the filter keeps only the incoming copy, in the kernel ("inbound").

    with LiveCapture("lo", "tcp port 9000", write_to="out.pcap", duration=5) as cap:
        for rec in cap:            # Records until count/duration/stop()
            engine.feed(rec)
    captured, dropped = cap.stats

`start()` is synchronous: when it returns the socket is bound and the filter attached, so
traffic started afterwards is captured.  `stop()` may be called from any thread.

Modules: packet_socket (the AF_PACKET socket, its BPF filter, one recvmsg() result as a
frame, `any`, the interface list), child (the forked capture child and its pipe format),
capture (LiveCapture), output (what to write: pcap or pcapng file, or a ring of files, by
analyzer.sources.pcapwriter / pcapng_writer / ring_buffer).  A SIGKILL loses at most the
last second: the writer is flushed within a second of every packet.
"""
from analyzer.sources.live.capture import LiveCapture
from analyzer.sources.live.output import Output
from analyzer.sources.live.packet_socket import (NO_RIGHTS_HINT, capture_rights, list_interfaces,
                                                 interface_linktype, open_capture_socket)

__all__ = ["LiveCapture", "Output", "list_interfaces", "capture_rights", "interface_linktype",
           "open_capture_socket", "NO_RIGHTS_HINT"]
