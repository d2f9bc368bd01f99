"""Render the Wireshark Lua plugin (package data wirelab.lua) with the registry's ports."""
from __future__ import annotations

import os
from importlib import resources

from analyzer.errors import WirelabError

TEMPLATE = "wirelab.lua"
PLACEHOLDER = "--@@CONFIG@@"
# docs/protocols.md defaults, used only if the dissector registry cannot be imported
FALLBACK_PORTS = {"chat": 9000, "lenmsg": 9001, "filexfer": 9002, "auth": 9003,
                  "bigreply": 9004, "udpecho": 9005}
LUA_PROTOCOLS = tuple(FALLBACK_PORTS)


def default_ports() -> dict[str, int]:
    """Protocol name -> default port, from dissectors.registry (the same table wirelab uses)."""
    try:
        from dissectors.registry import REGISTRY
    except Exception:  # registry not importable: the documented defaults
        return dict(FALLBACK_PORTS)
    ports = dict(FALLBACK_PORTS)
    for name in LUA_PROTOCOLS:
        spec = REGISTRY.get(name)
        if spec is not None:
            ports[name] = int(spec.default_port)
    return ports


def render_lua(ports: dict[str, int] | None = None) -> str:
    """The plugin's source text; `ports` overrides default ports per protocol."""
    merged = default_ports()
    for name, port in (ports or {}).items():
        if name not in merged:
            raise WirelabError(f"no Lua dissector for protocol {name!r} (known: {', '.join(merged)})")
        if not 1 <= int(port) <= 65535:
            raise WirelabError(f"bad port {port} for {name}")
        merged[name] = int(port)
    template = resources.files("analyzer.wireshark").joinpath(TEMPLATE).read_text(encoding="utf-8")
    try:
        from dissectors.base import MAX_FRAME, MAX_HEADER
    except Exception:
        MAX_FRAME, MAX_HEADER = 16 * 1024 * 1024, 64 * 1024
    body = "    ports = { " + ", ".join(f"{k} = {v}" for k, v in merged.items()) + " },\n"
    body += f"    max_frame = {MAX_FRAME},\n    max_header = {MAX_HEADER},"
    return template.replace(PLACEHOLDER, body)


def write_lua(path: str, ports: dict[str, int] | None = None) -> str:
    """Write the plugin to `path` (atomically) and return the path."""
    text = render_lua(ports)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise WirelabError(f"no such directory: {directory}")
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise WirelabError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
