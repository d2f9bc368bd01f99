"""Command-line options and steps the capture-reading commands share (`summary`,
`packets`, `verify`, `open`, `live`): the capture path, --decode-as, and loading a capture
into an engine with a progress bar."""
from __future__ import annotations

import os
import sys

from analyzer.errors import WirelabError
from analyzer.sources.merged import capture_files
from dissectors import framed, registry


def add_common_arguments(p) -> None:
    """Options shared by `summary` and `packets` (tshark-like where they fit)."""
    p.add_argument("file", nargs="*", metavar="FILE",
                   help="capture file(s), or a directory of them, read as one capture merged "
                        "in time order (pcap, pcapng, snoop; .gz/.zst; '-' = standard input)")
    p.add_argument("-r", dest="read_file", metavar="FILE", help="capture file (as tshark -r)")
    p.add_argument("-c", dest="count", type=int, metavar="N", help="read only the first N packets")
    add_decode_as_argument(p)
    p.add_argument("--no-sidecar", action="store_true",
                   help="ignore the application I/O sidecar (FILE.appio.jsonl) beside the capture")


def add_decode_as_argument(p) -> None:
    p.add_argument("--decode-as", action="append", default=[], metavar="PORT=PROTO[:VARIANT]",
                   help="decode a port as a protocol, e.g. 9999=lenmsg:native; or infer its "
                        "framing (7005=infer), or state it (7005=len:4:le), or one per "
                        "direction (7005=c2s:delim:lf,s2c:len:4:be) (repeatable)")


def parse_decode_as(items: list[str]) -> dict[int, str]:
    """--decode-as values -> {port: "proto[:variant]", "framed:GRAMMAR",
    "framed:c2s:GRAMMAR,s2c:GRAMMAR" or "infer"} (the framing grammar: dissectors.framed);
    WirelabError naming a bad one."""
    out: dict[int, str] = {}
    for text in items:
        try:
            port, name, options = registry.parse_decode_as(text)
        except ValueError as exc:
            raise WirelabError(str(exc)) from None
        if name == registry.FRAMED.name:
            out[port] = f"{name}:{framed.stated_text(options)}"
            continue
        out[port] = name + (f":{options['variant']}" if options.get("variant") else "")
    return out


def capture_paths(args) -> list[str]:
    """The captures named by FILE... or -r FILE: files and directories (expanded later, see
    analyzer.sources.merged); "-" alone reads standard input (copied once into an anonymous
    temporary file, see analyzer.sources.stdin_spool)."""
    paths = list(args.file)
    if args.read_file:
        if paths and paths != [args.read_file]:
            raise WirelabError("give the capture file once: FILE... or -r FILE, not both")
        paths = [args.read_file]
    if not paths:
        raise WirelabError("no capture file given (FILE or -r FILE)")
    if "-" in paths:
        if len(paths) > 1:
            raise WirelabError("standard input ('-') is read alone, not with other captures")
        from analyzer.sources.stdin_spool import spool_stdin
        return [spool_stdin()]
    for path in paths:
        if not os.path.exists(path):
            raise WirelabError(f"{path}: no such file")
    return paths


def capture_path(args) -> str:
    """The one capture file named by FILE or -r FILE (commands that read a single file)."""
    paths = capture_paths(args)
    if len(paths) > 1:
        raise WirelabError("give one capture file")
    if os.path.isdir(paths[0]):
        raise WirelabError(f"{paths[0]}: is a directory")
    return paths[0]


def _progress_bar(paths: list[str]):
    """A rich progress bar on stderr for captures that take more than a moment (tty only)."""
    try:
        size = sum(os.path.getsize(f) for f in capture_files(paths))
    except (OSError, WirelabError):
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
    """The capture named by args, read whole into an Engine; warnings printed on stderr."""
    from analyzer.engine import analyze_file
    paths = capture_paths(args)
    # one file: read as itself; several files or a directory: merged in time order
    path = paths[0] if len(paths) == 1 and not os.path.isdir(paths[0]) else paths
    decode_as = parse_decode_as(args.decode_as)
    if args.count is not None and args.count < 0:
        raise WirelabError("-c needs a count >= 0")
    prog, update = _progress_bar(paths)
    try:
        if prog is not None:
            with prog:
                eng = analyze_file(path, decode_as=decode_as, progress=update, limit=args.count,
                                   sidecar=None if args.no_sidecar else "auto")
        else:
            eng = analyze_file(path, decode_as=decode_as, limit=args.count,
                               sidecar=None if args.no_sidecar else "auto")
    except MemoryError:
        raise WirelabError(f"{', '.join(paths)}: out of memory while reading") from None
    except OSError as exc:
        raise WirelabError(f"{', '.join(paths)}: {exc.strerror or exc}") from None
    for w in eng.warnings:
        print(f"wirelab: warning: {w}", file=sys.stderr)
    return eng


def add_display_filter_argument(p, help_text: str = "display filter applied at start, "
                                                    "e.g. 'tcp.port == 9001'") -> None:
    p.add_argument("-Y", "--display-filter", dest="display_filter", default="", metavar="FILTER",
                   help=help_text)


def check_display_filter(text: str) -> None:
    """WirelabError for a display filter that does not compile (before the TUI starts)."""
    if not text:
        return
    from analyzer.filters.display_filter import FilterError, compile_filter
    try:
        compile_filter(text)
    except FilterError as exc:
        raise WirelabError(f"bad display filter: {exc}") from None


def require_terminal(instead: str) -> None:
    """WirelabError unless stdin and stdout are terminals (the TUI needs both)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise WirelabError("the terminal UI needs a terminal (stdin and stdout); "
                           f"without one use {instead}")


MAX_SECRET = 4096


def add_secret_argument(p) -> None:
    """--secret-file: the auth protocol's shared secret, to check each challenge-response."""
    p.add_argument("--secret-file", metavar="FILE",
                   help="the auth protocol's shared secret (the file's bytes, one trailing "
                        "newline dropped; or set WIRELAB_SECRET): marks each answer "
                        "accepted, rejected or replayed")


def read_secret(args) -> bytes | None:
    """The secret from --secret-file, else from $WIRELAB_SECRET, else None (not given)."""
    path = args.secret_file
    if path is None:
        text = os.environ.get("WIRELAB_SECRET", "")
        return text.encode("utf-8", "surrogateescape") if text else None
    if os.path.isdir(path):
        raise WirelabError(f"--secret-file {path}: is a directory")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SECRET + 1)
    except OSError as exc:
        raise WirelabError(f"--secret-file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_SECRET:
        raise WirelabError(f"--secret-file {path}: longer than {MAX_SECRET} bytes "
                           "(a secret, not a data file?)")
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        raise WirelabError(f"--secret-file {path}: is empty")
    return data
