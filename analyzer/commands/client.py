"""`wirelab client PROTOCOL ...`: run a reference client and print what came back."""
from __future__ import annotations

import argparse
import os
import socket

from analyzer.commands.serve import DEFAULT_PORTS, PROTOCOLS, read_secret
from analyzer.errors import WirelabError
from analyzer.sources.sidecar import open_sidecar_writer

HELP = "run a reference client for a protocol"


class _IntermixedParser(argparse.ArgumentParser):
    """Parses `client chat --port 1 hello world` (options between the positionals)."""

    _inside = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inside:
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def add_arguments(p) -> None:
    # messages may come before or after the options (python 3.11 argparse needs the
    # intermixed parser for a '*' positional followed by options)
    p.__class__ = _IntermixedParser
    p.add_argument("protocol", choices=PROTOCOLS, help="protocol to speak")
    p.add_argument("items", nargs="*", metavar="ITEM",
                   help="messages to send (chat, lenmsg, auth, udpecho), report names (bigreply), "
                        "files to upload (filexfer)")
    p.add_argument("--host", default="127.0.0.1", help="server address (default 127.0.0.1; ::1 for IPv6)")
    p.add_argument("--port", type=int, default=None, help="default: the protocol's port (9000-9005)")
    p.add_argument("--variant", default=None,
                   help="lenmsg/filexfer: network|native; auth: hmac-sha256|md5-hex|hmac-md5")
    p.add_argument("--naive", action="store_true",
                   help="chat/bigreply: take ONE recv(1024) as each reply (the classroom bug)")
    p.add_argument("--burst", action="store_true",
                   help="chat/lenmsg: send all messages back to back before reading")
    p.add_argument("--rounds", type=int, default=0, metavar="N",
                   help="chat --burst: the first N messages are request/reply rounds first")
    nd = p.add_mutually_exclusive_group()
    nd.add_argument("--nodelay", dest="nodelay", action="store_true", default=None, help="set TCP_NODELAY")
    nd.add_argument("--no-nodelay", dest="nodelay", action="store_false", help="clear TCP_NODELAY (Nagle on)")
    p.add_argument("--newline", action="store_true", help="chat/auth: append \\n to each message")
    p.add_argument("--secret-file", default=None, help="auth: secret file (else WIRELAB_SECRET)")
    p.add_argument("--get", metavar="NAME", help="filexfer: download NAME (to --output)")
    p.add_argument("--output", "-o", default=None, help="filexfer --get: where to write (default ./NAME)")
    p.add_argument("--name", default=None, help="filexfer: store the upload under this name")
    p.add_argument("--check", action="store_true",
                   help="filexfer: after each upload, download it again and compare sha256")
    p.add_argument("--appio", default=None, metavar="FILE", help="append every send()/recv() to this sidecar")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per socket operation (default 10)")


def _show(data: bytes | None) -> str:
    if data is None:
        return "(lost)"
    return repr(data)[1:] if len(data) <= 200 else repr(data[:200])[1:] + f"... ({len(data)} bytes)"


def _check_options(args, port: int) -> None:
    """Bad options fail here, before any connection is made."""
    from dissectors import registry
    from dissectors.bigreply import NAME_RE

    if not 0 <= port <= 65535:
        raise WirelabError(f"bad port {port}")
    if not args.timeout > 0 or args.timeout == float("inf"):
        raise WirelabError(f"--timeout must be a positive number of seconds, not {args.timeout}")
    if args.variant is not None:
        known = registry.get(args.protocol).variants
        if not known:
            raise WirelabError(f"{args.protocol} has no variants")
        if args.variant not in known:
            raise WirelabError(f"unknown variant {args.variant!r} for {args.protocol} "
                               f"(variants: {', '.join(known)})")
    if args.protocol == "bigreply":
        for name in args.items:
            if not NAME_RE.match(name):
                raise WirelabError(f"bad report name {name!r}: 1-64 characters of A-Z a-z 0-9 . _ -")


def run(args) -> int:
    from analyzer.lab import clients
    from dissectors.base import LocalProtocolError

    port = DEFAULT_PORTS[args.protocol] if args.port is None else args.port
    _check_options(args, port)
    items = [i.encode() + (b"\n" if args.newline else b"") for i in args.items]
    appio = open_sidecar_writer(args.appio)
    common = {"appio": appio, "timeout": args.timeout}
    try:
        if args.protocol == "chat":
            replies = clients.chat_client(args.host, port, items or [b"hello\n"], naive=args.naive,
                                          wait=not args.burst, rounds=max(0, args.rounds),
                                          nodelay=args.nodelay, **common)
            for msg, rep in zip(items or [b"hello\n"], replies):
                print(f"sent {_show(msg)} -> got {_show(rep)}")
        elif args.protocol == "lenmsg":
            replies = clients.lenmsg_client(args.host, port, items or [b"hello"], variant=args.variant or "network",
                                            pipeline=args.burst, nodelay=args.nodelay, **common)
            for msg, rep in zip(items or [b"hello"], replies):
                print(f"sent len={len(msg)} {_show(msg)} -> got len={len(rep)} {_show(rep)}")
        elif args.protocol == "filexfer":
            return _filexfer(args, port, common, clients)
        elif args.protocol == "auth":
            secret = read_secret(args.secret_file)
            variant = args.variant or "hmac-sha256"
            replies = clients.auth_client(args.host, port, secret, items, variant=variant,
                                          nodelay=args.nodelay, **common)
            print(f"authenticated ({variant})")
            for msg, rep in zip(items, replies):
                print(f"sent {_show(msg)} -> got {_show(rep)}")
        elif args.protocol == "bigreply":
            names = args.items or ["status"]
            replies = clients.bigreply_client(args.host, port, names, naive=args.naive,
                                              nodelay=args.nodelay, **common)
            for name, rep in zip(names, replies):
                head = rep.split(b"\n", 1)[0]
                print(f"GET {name} -> {len(rep)} bytes: {_show(head)}")
        elif args.protocol == "udpecho":
            replies = clients.udpecho_client(args.host, port, items or [b"hello"], timeout=min(args.timeout, 2.0),
                                             appio=appio)
            for msg, rep in zip(items or [b"hello"], replies):
                print(f"sent {_show(msg)} -> got {_show(rep)}")
    except ConnectionRefusedError:
        raise WirelabError(f"connection refused by {args.host}:{port} (is `wirelab serve {args.protocol}` running?)") from None
    except socket.timeout:
        raise WirelabError(f"timed out talking to {args.host}:{port}") from None
    except OSError as exc:
        if exc.filename:       # a local file (download destination, sidecar), not the network
            raise WirelabError(f"cannot use {exc.filename}: {exc.strerror or exc}") from None
        raise WirelabError(f"network error with {args.host}:{port}: {exc.strerror or exc}") from None
    except (ValueError, LocalProtocolError) as exc:
        raise WirelabError(str(exc)) from None
    finally:
        if appio is not None:
            appio.close()
    return 0


def _filexfer(args, port, common, clients) -> int:
    variant = args.variant or "network"
    status_code = 0
    if args.get:
        dest = args.output or os.path.basename(args.get) or "download"
        parent = os.path.dirname(os.path.abspath(dest))
        if os.path.isdir(dest):
            raise WirelabError(f"cannot write {dest}: is a directory")
        if not os.path.isdir(parent):
            raise WirelabError(f"cannot write {dest}: no such directory {parent}")
        st = clients.download(args.host, port, args.get, dest, variant=variant, nodelay=args.nodelay, **common)
        if not st.get("ok"):
            raise WirelabError(f"download refused: {st.get('error')}")
        print(f"downloaded {args.get!r} -> {dest} ({st['size']} bytes, sha256 {st['sha256']})")
        return 0
    if not args.items:
        raise WirelabError("filexfer: give files to upload, or --get NAME")
    if args.name and len(args.items) > 1:
        raise WirelabError("--name needs exactly one file")
    for path in args.items:
        if os.path.isdir(path):
            raise WirelabError(f"cannot upload {path}: is a directory")
        if not os.path.isfile(path):
            raise WirelabError(f"no such file: {path}")
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise WirelabError(f"cannot read {path}: {exc.strerror or exc}") from None
        st = clients.upload(args.host, port, path, name=args.name, variant=variant, nodelay=args.nodelay, **common)
        if not st.get("ok"):
            print(f"upload {path} refused: {st.get('error')}")
            status_code = 1
            continue
        print(f"uploaded {path} -> stored {st['stored']!r} ({st['size']} bytes, sha256 {st['sha256']})")
        if args.check:
            import tempfile
            with tempfile.TemporaryDirectory() as d:
                back = clients.download(args.host, port, st["stored"], os.path.join(d, "copy"), variant=variant,
                                        **common)
            same = back.get("ok") and back.get("sha256") == st["sha256"]
            print(f"round trip {'OK' if same else 'FAILED'}: downloaded sha256 {back.get('sha256')}")
            status_code = status_code or (0 if same else 1)
    return status_code
