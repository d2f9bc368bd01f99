"""`wirelab packets FILE`: one tshark-like line (or JSON object) per packet."""
from __future__ import annotations

import importlib
import json
import os
import sys

from analyzer.errors import WirelabError

HELP = "one line (or JSON object) per packet"


def add_common_arguments(p) -> None:
    """Options shared by `summary` and `packets` (tshark-like where they fit)."""
    p.add_argument("file", nargs="?", help="capture file (pcap or pcapng)")
    p.add_argument("-r", dest="read_file", metavar="FILE", help="capture file (as tshark -r)")
    p.add_argument("-c", dest="count", type=int, metavar="N", help="read only the first N packets")
    p.add_argument("--decode-as", action="append", default=[], metavar="PORT=PROTO[:VARIANT]",
                   help="decode a port as a protocol, e.g. 9999=lenmsg:native (repeatable)")
    p.add_argument("--no-sidecar", action="store_true",
                   help="ignore the application I/O sidecar (FILE.appio.jsonl) beside the capture")


def parse_decode_as(items: list[str]) -> dict[int, str]:
    from dissectors import registry
    out: dict[int, str] = {}
    for text in items:
        try:
            port, name, options = registry.parse_decode_as(text)
        except ValueError as exc:
            raise WirelabError(str(exc)) from None
        out[port] = name + (f":{options['variant']}" if options.get("variant") else "")
    return out


def capture_path(args) -> str:
    path = args.file or args.read_file
    if args.file and args.read_file and args.file != args.read_file:
        raise WirelabError("give the capture file once (FILE or -r FILE)")
    if not path:
        raise WirelabError("no capture file given (FILE or -r FILE)")
    if not os.path.exists(path):
        raise WirelabError(f"{path}: no such file")
    if os.path.isdir(path):
        raise WirelabError(f"{path}: is a directory")
    return path


def _progress_bar(path: str):
    """A rich progress bar on stderr for files that take more than a moment (tty only)."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return None, None
    if not sys.stderr.isatty() or size < 8 * 1024 * 1024:
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    prog = Progress(TextColumn("reading"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    task = prog.add_task("read", total=size)

    def update(done, total):
        if isinstance(done, (int, float)) and total:
            prog.update(task, completed=done)
    return prog, update


def load_engine(args):
    from analyzer.engine import analyze_file
    path = capture_path(args)
    decode_as = parse_decode_as(args.decode_as)
    if args.count is not None and args.count < 0:
        raise WirelabError("-c needs a count >= 0")
    prog, update = _progress_bar(path)
    try:
        if prog is not None:
            with prog:
                eng = analyze_file(path, decode_as=decode_as, progress=update, limit=args.count,
                                   sidecar=None if args.no_sidecar else "auto")
        else:
            eng = analyze_file(path, decode_as=decode_as, limit=args.count,
                               sidecar=None if args.no_sidecar else "auto")
    except MemoryError:
        raise WirelabError(f"{path}: out of memory while reading") from None
    except OSError as exc:
        raise WirelabError(f"{path}: {exc.strerror or exc}") from None
    for w in eng.warnings:
        print(f"wirelab: warning: {w}", file=sys.stderr)
    return eng


def add_arguments(p) -> None:
    add_common_arguments(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line per packet")
    p.add_argument("-Y", dest="display_filter", metavar="FILTER",
                   help="display filter, e.g. 'tcp.port == 9001' (Wireshark-like)")


def _compile_filter(text: str | None):
    if not text:
        return None
    try:
        mod = importlib.import_module("analyzer.display_filter")
    except ModuleNotFoundError:
        raise WirelabError("display filters (-Y) are not available in this build") from None
    try:
        return mod.compile_filter(text)
    except ValueError as exc:
        raise WirelabError(f"bad display filter: {exc}") from None


def run(args) -> int:
    flt = _compile_filter(args.display_filter)
    eng = load_engine(args)
    out = sys.stdout
    try:
        for n in range(1, eng.packet_count + 1):
            if flt is not None and not flt.matches(eng, n):
                continue
            if args.json:
                out.write(json.dumps(eng.packet_json(n), separators=(",", ":")))
                out.write("\n")
            else:
                out.write(format_row(eng.row(n)))
                out.write("\n")
    finally:
        eng.close()
    return 0


def format_row(r) -> str:
    """`No. Time Source -> Destination Protocol Length Info` like tshark's default line."""
    return (f"{r.number:>6} {r.time:10.6f} {r.src:>15} → {r.dst:<15} {r.protocol:<8} "
            f"{r.length:>5} {r.info}")
