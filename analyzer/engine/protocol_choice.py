"""Which codec cuts a conversation's messages: `--decode-as` first, then the protocols'
default ports, then a probe of the first bytes; and, for unframed protocols, the exact
message boundaries a sidecar (analyzer.sources.sidecar) recorded for that connection."""
from __future__ import annotations

from dissectors import registry
from dissectors.base import CLIENT, SERVER


def parse_decode_as(decode_as: dict) -> dict[int, tuple[str, dict]]:
    """{port: "proto[:variant]" or (proto, options)} -> {port: (proto, options)}."""
    out = {}
    for port, text in decode_as.items():
        if isinstance(text, tuple):
            out[int(port)] = text
            continue
        name, _, variant = str(text).partition(":")
        out[int(port)] = (name.strip().lower(), {"variant": variant.strip().lower()} if variant else {})
    return out


def index_sidecar(records) -> dict:
    """(transport, client, server) -> list of sessions, each {dir: [(offset, length)]}: the
    sender's send() calls, one session per connection (a 4-tuple may be reused)."""
    if not records:
        return {}
    out: dict = {}
    current: dict = {}
    for r in records:
        if r.op != "send":
            continue
        key = (r.transport, r.client, r.server)
        sess = current.get(key)
        if sess is None or (r.offset == 0 and sess["max"].get(r.dir, -1) >= 0
                            and sess["max"].get(r.dir, 0) > 0):
            sess = {"c2s": [], "s2c": [], "max": {}}
            current[key] = sess
            out.setdefault(key, []).append(sess)
        sess[r.dir].append((r.offset, r.length))
        sess["max"][r.dir] = max(sess["max"].get(r.dir, 0), r.offset + r.length)
    return out


def codec_factory(spec, options: dict, direction: int):
    """A function making a fresh codec for one direction (c2s bytes are what a server reads)."""
    role = SERVER if direction == 0 else CLIENT

    def factory():
        return spec.connection(role, **options)
    return factory


class ProtocolChooser:
    """The engine's choice of codec per conversation (see the module docstring)."""

    def __init__(self, decode_as: dict | None, sidecar_records) -> None:
        self.decode_as = parse_decode_as(decode_as or {})
        self.sidecar = index_sidecar(sidecar_records)
        self._sessions_used: dict[int, int] = {}

    def for_ports(self, transport: str, server_port: int, client_port: int):
        """(spec, options) named by --decode-as or a default port; (None, {}) if neither."""
        for port in (server_port, client_port):
            if port in self.decode_as:
                name, options = self.decode_as[port]
                try:
                    return registry.get(name), dict(options)
                except KeyError:
                    return None, {}
        for port in (server_port, client_port):
            spec = registry.by_port(transport, port)
            if spec is not None:
                return spec, {}
        return None, {}

    @staticmethod
    def probe(transport: str, c2s: bytes, s2c: bytes):
        """(spec, options) recognised from a conversation's first bytes, or None."""
        return registry.detect(transport, c2s, s2c)

    def sidecar_session(self, client: str, server: str) -> dict | None:
        """The next recorded session of this TCP connection ({"c2s": [(offset, length)], ...}),
        or None when the sidecar has none left."""
        sessions = self.sidecar.get(("tcp", client, server))
        if not sessions:
            return None
        k = self._sessions_used.get(id(sessions), 0)
        if k >= len(sessions):
            return None
        self._sessions_used[id(sessions)] = k + 1
        return sessions[k]
