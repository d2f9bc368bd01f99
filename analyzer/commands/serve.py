"""`wirelab serve PROTOCOL`: run a reference server until Ctrl-C or SIGTERM."""
from __future__ import annotations

import os
import re
import resource
import signal
import stat
import sys
import threading

from analyzer.errors import WirelabError
from analyzer.sources.sidecar import open_sidecar_writer

HELP = "run a reference server for a protocol"
PROTOCOLS = ("chat", "lenmsg", "filexfer", "auth", "bigreply", "udpecho")
TEMP_GLOB = ".wirelab-upload-*"
DEFAULT_PORTS = {"chat": 9000, "lenmsg": 9001, "filexfer": 9002, "auth": 9003, "bigreply": 9004,
                 "udpecho": 9005}


def add_arguments(p) -> None:
    p.add_argument("protocol", choices=PROTOCOLS, help="protocol to serve")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default: the protocol's, 9000-9005; 0 = any free)")
    p.add_argument("--idle-timeout", type=float, default=30.0, metavar="S",
                   help="close a connection with no message in progress after S seconds (default 30)")
    p.add_argument("--message-timeout", type=float, default=10.0, metavar="S",
                   help="a message (frame, header, upload, auth answer) must be complete S seconds "
                        "after its first byte, plus 1 s per --min-rate bytes (default 10)")
    p.add_argument("--min-rate", type=size, default=16384, metavar="BYTES",
                   help="bytes per second a message must keep up to earn more time (default 16K)")
    p.add_argument("--max-threads", type=int, default=64, metavar="N",
                   help="at most N worker threads; idle connections hold none (default 64)")
    p.add_argument("--max-connections", type=int, default=4096, metavar="N",
                   help="close new connections past N open ones, with a log line (default 4096)")
    p.add_argument("--buffer-budget", type=size, default=64 << 20, metavar="BYTES",
                   help="partial-message bytes all connections may hold together; the one growing "
                        "past it is closed (default 64M)")
    p.add_argument("--max-upload", type=size, default=1 << 30, metavar="BYTES",
                   help="filexfer: largest upload (default 1G)")
    p.add_argument("--quota", type=size, default=4 << 30, metavar="BYTES",
                   help="filexfer: total bytes the upload directory may hold (default 4G)")
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


_SIZE = re.compile(r"([0-9]+)([KMG]?)(?:i?B)?\Z", re.I)


def size(text: str) -> int:
    """'65536', '64K', '16M', '1G' (powers of 1024) -> bytes (argparse: "invalid size value")."""
    m = _SIZE.match(text.strip())
    if not m:
        raise ValueError(text)
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2).upper()]


def read_secret(path: str | None) -> bytes:
    """The auth secret from --secret-file or WIRELAB_SECRET (never a built-in default).
    A secret file that group or others may read gets a warning line on stderr."""
    if path:
        try:
            with open(path, "rb") as f:
                mode = os.fstat(f.fileno()).st_mode
                secret = f.read(1 << 16).rstrip(b"\r\n")
        except OSError as exc:
            raise WirelabError(f"cannot read secret file {path}: {exc.strerror}") from None
        if not secret:
            raise WirelabError(f"secret file {path} is empty")
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            print(f"warning: secret file {path} is readable by group/others (mode "
                  f"{stat.S_IMODE(mode):04o}): chmod 600 {path}", file=sys.stderr)
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
        opts.update(upload_dir=args.upload_dir, max_upload=args.max_upload, quota=args.quota)
    if args.protocol != "udpecho":
        opts.update(idle_timeout=args.idle_timeout, message_timeout=args.message_timeout,
                    min_rate=args.min_rate, max_threads=args.max_threads,
                    max_connections=args.max_connections, buffer_budget=args.buffer_budget)
    if args.protocol == "auth":
        opts["secret"] = read_secret(args.secret_file)
    if args.protocol == "chat":
        opts["first_read_delay"] = args.first_read_delay
        opts["recv_size"] = args.recv_size
    return opts


class Terminated(Exception):
    """SIGTERM arrived: stop like Ctrl-C."""


def _on_sigterm(_signum, _frame) -> None:
    raise Terminated


def _raise_fd_limit(wanted: int) -> int:
    """Raise the soft open-files limit towards `wanted` (up to the hard limit); the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def _check(args) -> None:
    if args.variant and args.protocol in ("chat", "bigreply", "udpecho"):
        raise WirelabError(f"{args.protocol} has no variants")
    if args.recv_size < 1:
        raise WirelabError("--recv-size must be >= 1")
    if not 0 <= args.first_read_delay < float("inf"):
        raise WirelabError(f"--first-read-delay must be >= 0 seconds, not {args.first_read_delay}")
    if args.max_upload < 1 or args.quota < 1:
        raise WirelabError("--max-upload and --quota must be >= 1 byte")


def run(args) -> int:
    from analyzer.lab.servers import make_server

    _check(args)
    port = DEFAULT_PORTS[args.protocol] if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise WirelabError(f"bad port {port}")
    lock = threading.Lock()
    printing = [True]      # off at exit: daemon threads must not write during shutdown

    def log(line: str) -> None:
        with lock:
            if printing[0]:
                print(line, flush=True)

    fd_limit = _raise_fd_limit(args.max_connections + 64)
    fd_note = ""
    if args.protocol != "udpecho" and fd_limit < args.max_connections + 64:
        args.max_connections = max(1, fd_limit - 64)
        fd_note = (f"wirelab serve {args.protocol}: the open-files limit is {fd_limit}: at most "
                   f"{args.max_connections} connections")
    appio = open_sidecar_writer(args.appio)
    try:
        server = make_server(args.protocol, args.host, port, log=None if args.quiet else log, appio=appio,
                             **_options(args))
    except ValueError as exc:
        raise WirelabError(str(exc)) from None
    except OSError as exc:
        raise WirelabError(f"cannot listen on {args.host}:{port}: {exc.strerror or exc}") from None
    _announce(args, server, log)
    if fd_note:
        log(fd_note)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    how = "Ctrl-C"
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    except Terminated:
        how = "SIGTERM"
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)      # a second SIGTERM must not cut the cleanup
        server.close_connections()
        server.server_close()
        server.wait_idle(2.0)          # handlers finish: partial uploads remove their temp files
        counts = f": {server.counts_text()}" if args.protocol != "udpecho" else ""
        log(f"wirelab serve {args.protocol}: stopped ({how}){counts}")
        with lock:
            printing[0] = False
        if appio is not None:
            appio.close()
        signal.signal(signal.SIGTERM, previous)
        sys.stdout.flush()
    return 0


def _announce(args, server, log) -> None:
    host, real_port = server.server_address[:2]
    transport = "udp" if args.protocol == "udpecho" else "tcp"
    extra = ""
    if args.protocol == "filexfer":
        extra = f", uploads in {server.options['store'].root}"
    if args.protocol == "auth":
        extra = f", variant {args.variant or 'hmac-sha256'}"
    log(f"wirelab serve {args.protocol}: listening on {transport} {host}:{real_port}{extra} "
        "(Ctrl-C to stop)")
    if args.protocol == "filexfer" and server.options["store"].stale_removed:
        store = server.options["store"]
        log(f"wirelab serve filexfer: removed {store.stale_removed} stale temp file(s) "
            f"{TEMP_GLOB} of an interrupted run from {store.root}")
