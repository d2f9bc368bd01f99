"""Wireshark's own dissection of ONE packet through pyshark, for protocols wirelab lacks.

    from analyzer.wireshark.pyshark_detail import wireshark_layers
    for layer, fields in wireshark_layers("x.pcap", 7):      # blocking: call from a worker
        ...                                                  # ("dns", [("dns.qry.name", "a.b"), ...])

pyshark runs its own asyncio loop, which clashes with Textual's: every call runs pyshark in a
dedicated thread with a new event loop, closes the capture and the loop, and joins the thread
(bounded by `timeout`).  Safe to call from any thread, including a Textual thread worker.

tshark dissects every packet before the one asked for (state such as TCP reassembly needs
them), which costs ~70 us a packet.  Deep into a big capture, only the CONTEXT_WINDOW packets
before it are given to tshark (cut with editcap): the answer then starts with a
("wirelab", [("context", ...)]) layer saying so, since stream numbers and analysis that need
older packets can differ.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import threading

from analyzer.errors import WirelabError
from analyzer.wireshark.tshark import find_tshark

MAX_FIELDS_PER_LAYER = 400
MAX_VALUE = 200
DEFAULT_TIMEOUT = 60.0
CONTEXT_WINDOW = 20000

Layers = list[tuple[str, list[tuple[str, str]]]]


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        value = ", ".join(_text(v) for v in value)
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "..."


def _flatten(items, out: list[tuple[str, str]]) -> None:
    for key, value in items:
        if len(out) >= MAX_FIELDS_PER_LAYER:
            return
        if isinstance(value, dict):
            if not str(key).endswith("_tree"):
                out.append((str(key), ""))
            _flatten(value.items(), out)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for v in value:
                _flatten(v.items(), out)
        else:
            out.append((str(key), _text(value)))


def _layer_fields(layer) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    raw = getattr(layer, "_all_fields", None)
    if isinstance(raw, dict):
        _flatten(raw.items(), out)
    else:  # not a JSON layer: fall back to pyshark's field names
        for name in getattr(layer, "field_names", [])[:MAX_FIELDS_PER_LAYER]:
            out.append((name, _text(layer.get_field(name))))
    return out


def _dissect(path: str, number: int, tshark_path: str) -> Layers:
    import pyshark

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    cap = None
    try:
        cap = pyshark.FileCapture(path, display_filter=f"frame.number=={number}", use_json=True,
                                  keep_packets=False, tshark_path=tshark_path, eventloop=loop,
                                  # stop reading after packet `number`: fast on big captures
                                  custom_parameters=["-c", str(number)])
        packet = None
        for packet in cap:
            break
        if packet is None:
            return []
        return [(layer.layer_name, _layer_fields(layer)) for layer in packet.layers]
    finally:
        if cap is not None:
            try:
                cap.close()
            except Exception:           # tshark ended with an error (pyshark raises it here)
                pass
            # what close() left listed pyshark's __del__ would close again later, on the loop
            # closed below ("Event loop is closed" at garbage collection): nothing is left
            cap._running_processes.clear()
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        except Exception:
            pass
        asyncio.set_event_loop(None)
        loop.close()


def _window(path: str, number: int, tshark_path: str, tmpdir: str, window: int) -> tuple[str, int, str | None]:
    """(file, packet number in it, note): the last `window` packets up to `number` when deep."""
    if number <= window:
        return path, number, None
    editcap = os.path.join(os.path.dirname(tshark_path), "editcap")
    if not os.access(editcap, os.X_OK):
        editcap = shutil.which("editcap") or ""
    if not editcap:
        return path, number, None
    start = number - window + 1
    out = os.path.join(tmpdir, "window" + os.path.splitext(path)[1])
    try:
        subprocess.run([editcap, "-r", path, out, f"{start}-{number}"], check=True,
                       capture_output=True, timeout=DEFAULT_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return path, number, None
    return out, window, (f"tshark saw packets {start}-{number} only: stream numbers and analysis "
                         f"that depend on earlier packets may differ")


def wireshark_layers(path: str, number: int, timeout: float = DEFAULT_TIMEOUT,
                     window: int = CONTEXT_WINDOW) -> Layers:
    """[(layer name, [(field, value), ...]), ...] of packet `number` (1-based) as tshark sees it.

    WirelabError when the file or the packet does not exist, tshark is missing, or it takes
    longer than `timeout` seconds.
    """
    if not os.path.isfile(path):
        raise WirelabError(f"{path}: no such file")
    if int(number) < 1:
        raise WirelabError(f"no packet {number}: packet numbers start at 1")
    tshark_path = find_tshark()
    box: dict = {}

    def work() -> None:
        try:
            with tempfile.TemporaryDirectory(prefix="wirelab-detail-") as tmp:
                src, n, note = _window(path, int(number), tshark_path, tmp, max(1, int(window)))
                layers = _dissect(src, n, tshark_path)
                if note and layers:
                    layers.insert(0, ("wirelab", [("context", note)]))
                box["layers"] = layers
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=work, name=f"pyshark-detail-{number}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise WirelabError(f"tshark took longer than {timeout:.0f} s to dissect packet {number}")
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, WirelabError):
            raise exc
        raise WirelabError(f"tshark could not dissect packet {number}: {exc}") from None
    layers = box.get("layers") or []
    if not layers:
        raise WirelabError(f"{path}: no packet {number}")
    return layers
