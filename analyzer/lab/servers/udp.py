"""The UDP echo server (udpecho): one datagram is one message."""
from __future__ import annotations

import socketserver
import threading

from analyzer.sources.sidecar import AppIOWriter
from analyzer.lab.netio import addr_text, family_of
from dissectors import chat, udpecho
from dissectors.base import SERVER
from analyzer.lab.servers.tcp_server import Log, MAX_UDP_PEERS, quiet

class UDPEchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        srv: LabUDPServer = self.server
        codec = udpecho.Connection(SERVER)
        peer = addr_text(self.client_address)
        srv.log(f"{peer} datagram {len(data)} bytes {chat.preview(data)}")
        reply = codec.send(udpecho.Datagram(data.upper()))
        sock.sendto(reply, self.client_address)
        if srv.appio is not None:
            me = addr_text(sock.getsockname())
            with srv.lock:
                off_in = srv.offsets.get((peer, "c2s"), 0)
                off_out = srv.offsets.get((peer, "s2c"), 0)
                srv.offsets[(peer, "c2s")] = off_in + len(data)
                srv.offsets[(peer, "s2c")] = off_out + len(reply)
                while len(srv.offsets) > MAX_UDP_PEERS * 2:     # bounded memory
                    srv.offsets.pop(next(iter(srv.offsets)))
            for op, d, off, n in (("recv", "c2s", off_in, len(data)), ("send", "s2c", off_out, len(reply))):
                srv.appio.record(client=peer, server=me, side="server", op=op, direction=d, offset=off,
                                 length=n, transport="udp")


class LabUDPServer(socketserver.UDPServer):
    allow_reuse_address = True
    max_packet_size = 65535

    def __init__(self, address, *, log: Log | None = None, appio: AppIOWriter | None = None, **_ignored):
        self.address_family = family_of(address[0])
        self.log = log or quiet
        self.appio = appio
        self.lock = threading.Lock()
        self.offsets: dict = {}
        self.protocol = "udpecho"
        super().__init__(address, UDPEchoHandler)

    def handle_error(self, request, client_address):  # pragma: no cover
        self.log(f"{addr_text(client_address)} error")

    def close_connections(self) -> None:
        pass

    def wait_idle(self, timeout: float = 2.0) -> bool:
        return True


