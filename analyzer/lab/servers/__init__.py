"""The reference servers: one per protocol, encoding with the same codecs the analyzer decodes.

    from analyzer.lab.servers import start_server
    with start_server("lenmsg", port=0, idle_timeout=2) as srv:
        host, port = srv.address
        ...

TCP servers are socketserver.ThreadingTCPServer subclasses (the lecture's server) whose
per-connection thread is replaced by one selector thread plus a bounded worker pool, so idle
and trickling clients hold no thread (tcp_server.py), with:
  * a total deadline per phase that trickling cannot extend (limits.py): `idle_timeout`
    between messages, `message_timeout` + 1 s per `min_rate` bytes inside one;
  * at most `max_threads` workers, at most `max_connections` open connections (more are
    refused with a log line), at most `buffer_budget` bytes of partial messages in all;
  * clean stop (ServerHandle.stop(), Ctrl-C or SIGTERM in the CLI): no traceback, no temp file.
UDP (udpecho) runs on a socketserver.UDPServer.
Every server logs one line per connection/event through `log` (a callable; None = silent).
"""
from __future__ import annotations

import threading

from analyzer.sources.sidecar import AppIOWriter
from analyzer.lab.filestore import DEFAULT_QUOTA, FileStore
from dissectors import auth
from analyzer.lab.servers.udp import LabUDPServer
from analyzer.lab.servers.limits import Limits
from analyzer.lab.servers.tcp_server import LabTCPServer, Log
from analyzer.lab.servers.handlers import AuthHandler, BigreplyHandler, Challenges, ChatHandler, LenmsgHandler
from analyzer.lab.servers.filexfer_handler import FilexferHandler

HANDLERS = {"chat": ChatHandler, "lenmsg": LenmsgHandler, "filexfer": FilexferHandler,
            "auth": AuthHandler, "bigreply": BigreplyHandler}
PROTOCOLS = tuple(HANDLERS) + ("udpecho",)
LIMIT_NAMES = ("idle_timeout", "message_timeout", "min_rate", "max_threads", "max_connections",
               "buffer_budget")


class ServerHandle:
    """A server running in a background thread.  `.address`, `.stop()`, context manager."""

    def __init__(self, server, protocol: str):
        self.server = server
        self.protocol = protocol
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"wirelab-serve-{protocol}", daemon=True)
        self._stopped = False

    def start(self) -> "ServerHandle":
        self._thread.start()
        return self

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return host, port

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def transport(self) -> str:
        return "udp" if self.protocol == "udpecho" else "tcp"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.server.shutdown()
        self.server.close_connections()
        self.server.server_close()
        self.server.wait_idle(2.0)
        self._thread.join(5)

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def make_server(protocol: str, host: str = "127.0.0.1", port: int = 0, *, log: Log | None = None,
                appio: AppIOWriter | None = None, **opts):
    """Build (bind + listen) the server for `protocol` without running it.

    Limits (TCP; see limits.py): idle_timeout, message_timeout, min_rate, max_threads,
    max_connections, buffer_budget.  opts: chat: first_read_delay, recv_size; lenmsg: variant,
    max_frame; filexfer: upload_dir, variant, max_upload, quota; auth: secret (bytes,
    required), variant.  ValueError for a bad option, OSError if the port is busy.
    """
    if protocol == "udpecho":
        return LabUDPServer((host, port), log=log, appio=appio)
    if protocol not in HANDLERS:
        raise ValueError(f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
    limits = Limits(**{k: opts.pop(k) for k in LIMIT_NAMES if k in opts})
    if protocol == "filexfer":
        upload_dir = opts.get("upload_dir")
        if not upload_dir:
            import tempfile
            upload_dir = opts["upload_dir"] = tempfile.mkdtemp(prefix="wirelab-uploads-")
        opts["store"] = FileStore(upload_dir, quota=int(opts.get("quota") or DEFAULT_QUOTA))
    if protocol == "auth":
        secret = opts.get("secret")
        if not secret:
            raise ValueError("the auth server needs a secret (--secret-file or WIRELAB_SECRET)")
        opts["secret"] = secret.encode() if isinstance(secret, str) else bytes(secret)
        variant = opts.get("variant") or auth.DEFAULT_VARIANT
        if variant not in auth.VARIANTS:
            raise ValueError(f"unknown auth variant {variant!r} ({', '.join(auth.VARIANTS)})")
        opts["challenges"] = Challenges()
    if protocol in ("lenmsg", "filexfer") and opts.get("variant") not in (None, "network", "native"):
        raise ValueError(f"unknown variant {opts['variant']!r} (network|native)")
    return LabTCPServer((host, port), HANDLERS[protocol], protocol=protocol, limits=limits, log=log,
                        appio=appio, options=opts)


def start_server(protocol: str, host: str = "127.0.0.1", port: int = 0, **opts) -> ServerHandle:
    """Start the reference server for `protocol` in a background thread (see make_server)."""
    return ServerHandle(make_server(protocol, host, port, **opts), protocol).start()
