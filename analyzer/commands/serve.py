"""`wirelab serve PROTOCOL`: run a reference server until Ctrl-C."""
from __future__ import annotations

import os
import sys
import threading

from analyzer.errors import WirelabError

HELP = "run a reference server for a protocol"
PROTOCOLS = ("chat", "lenmsg", "filexfer", "auth", "bigreply", "udpecho")
DEFAULT_PORTS = {"chat": 9000, "lenmsg": 9001, "filexfer": 9002, "auth": 9003, "bigreply": 9004,
                 "udpecho": 9005}


def add_arguments(p) -> None:
    p.add_argument("protocol", choices=PROTOCOLS, help="protocol to serve")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default: the protocol's, 9000-9005; 0 = any free)")
    p.add_argument("--idle-timeout", type=float, default=30.0, metavar="S",
                   help="close a connection idle this many seconds (default 30)")
    p.add_argument("--max-threads", type=int, default=64, metavar="N",
                   help="at most N connection threads; more connections wait (default 64)")
    p.add_argument("--variant", default=None,
                   help="lenmsg/filexfer: network|native; auth: hmac-sha256|md5-hex|hmac-md5")
    p.add_argument("--upload-dir", default="wirelab-uploads", help="filexfer: where uploads are stored")
    p.add_argument("--secret-file", default=None, help="auth: file holding the shared secret "
                   "(else the WIRELAB_SECRET environment variable)")
    p.add_argument("--first-read-delay", type=float, default=0.0, metavar="S",
                   help="chat: sleep S seconds before the first recv()")
    p.add_argument("--recv-size", type=int, default=65536, metavar="N", help="chat: recv() buffer size")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="print only where it listens (no line per connection/event)")
    p.add_argument("--appio", default=None, metavar="FILE",
                   help="append every send()/recv() to this sidecar file (JSON lines)")


def read_secret(path: str | None) -> bytes:
    """The auth secret from --secret-file or WIRELAB_SECRET (never a built-in default)."""
    if path:
        try:
            with open(path, "rb") as f:
                secret = f.read(1 << 16).rstrip(b"\r\n")
        except OSError as exc:
            raise WirelabError(f"cannot read secret file {path}: {exc.strerror}") from None
        if not secret:
            raise WirelabError(f"secret file {path} is empty")
        return secret
    env = os.environ.get("WIRELAB_SECRET", "")
    if not env:
        raise WirelabError("auth needs a secret: --secret-file FILE or WIRELAB_SECRET")
    return env.encode()


def _options(args) -> dict:
    opts: dict = {}
    if args.variant:
        opts["variant"] = args.variant
    if args.protocol == "filexfer":
        opts["upload_dir"] = args.upload_dir
    if args.protocol == "auth":
        opts["secret"] = read_secret(args.secret_file)
    if args.protocol == "chat":
        opts["first_read_delay"] = args.first_read_delay
        opts["recv_size"] = args.recv_size
    return opts


def run(args) -> int:
    from analyzer.sources.sidecar import AppIOWriter
    from analyzer.lab.servers import make_server

    if args.variant and args.protocol in ("chat", "bigreply", "udpecho"):
        raise WirelabError(f"{args.protocol} has no variants")
    if not args.idle_timeout > 0:
        raise WirelabError("--idle-timeout must be > 0")
    if args.recv_size < 1 or args.max_threads < 1:
        raise WirelabError("--recv-size and --max-threads must be >= 1")
    if not 0 <= args.first_read_delay < float("inf"):
        raise WirelabError(f"--first-read-delay must be >= 0 seconds, not {args.first_read_delay}")
    port = DEFAULT_PORTS[args.protocol] if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise WirelabError(f"bad port {port}")
    lock = threading.Lock()
    printing = [True]      # off at exit: daemon threads must not write during shutdown

    def log(line: str) -> None:
        with lock:
            if printing[0]:
                print(line, flush=True)

    appio = None
    if args.appio:
        if os.path.isdir(args.appio):
            raise WirelabError(f"cannot write sidecar {args.appio}: is a directory")
        try:
            appio = AppIOWriter(args.appio)
        except OSError as exc:
            raise WirelabError(f"cannot write sidecar {args.appio}: {exc.strerror or exc}") from None
    try:
        server = make_server(args.protocol, args.host, port, log=None if args.quiet else log, appio=appio,
                             idle_timeout=args.idle_timeout, max_threads=args.max_threads, **_options(args))
    except ValueError as exc:
        raise WirelabError(str(exc)) from None
    except OSError as exc:
        raise WirelabError(f"cannot listen on {args.host}:{port}: {exc.strerror or exc}") from None
    host, real_port = server.server_address[:2]
    transport = "udp" if args.protocol == "udpecho" else "tcp"
    extra = ""
    if args.protocol == "filexfer":
        extra = f", uploads in {os.path.abspath(args.upload_dir)}"
    if args.protocol == "auth":
        extra = f", variant {args.variant or 'hmac-sha256'}"
    log(f"wirelab serve {args.protocol}: listening on {transport} {host}:{real_port}{extra} (Ctrl-C to stop)")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        log(f"wirelab serve {args.protocol}: stopped")
    finally:
        server.close_connections()
        server.server_close()
        server.wait_idle(2.0)          # handlers finish: partial uploads remove their temp files
        with lock:
            printing[0] = False
        if appio is not None:
            appio.close()
        sys.stdout.flush()
    return 0
