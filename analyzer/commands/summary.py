"""`wirelab summary FILE`: conversations, handshakes, teardowns, messages, sticky packets."""
from __future__ import annotations

import sys

from analyzer.commands.options import (add_common_arguments, add_secret_argument, load_engine,
                                       read_secret)
from analyzer.errors import WirelabError
from analyzer.sources import linktypes
from analyzer.render.summary_json import write_summary_json

HELP = "conversations, handshakes, teardowns and messages of a capture"


def add_arguments(p) -> None:
    p.epilog = ("Link types read but not decoded (their packets are listed, not analysed): "
                + linktypes.not_decoded_text() + ".")
    add_common_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (the output contract)")
    p.add_argument("--message-text", action="store_true",
                   help="with --json: add each message's one-line summary (decodes every message)")
    p.add_argument("--messages", type=int, default=20, metavar="N",
                   help="messages listed per conversation in text output (default 20, 0 = all)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="with --json: analyse on a Dask cluster, conversations split between "
                        "its workers: a scheduler address (tcp://host:8786) or local:N for N "
                        "local worker processes (same JSON as one process)")
    add_secret_argument(p)


def check_options(args) -> None:
    """One-line errors for option values argparse lets through."""
    if args.messages < 0:
        raise WirelabError("--messages needs a number >= 0 (0 = all)")
    if args.dask and not args.json:
        raise WirelabError("--dask needs --json (the text summary is written by one process)")
    if args.dask and args.count is not None:
        raise WirelabError("-c is not available with --dask")


def run(args) -> int:
    check_options(args)
    secret = read_secret(args)
    if args.dask:
        if secret is not None:
            # a replayed answer may sit in another partition than the one it replays
            raise WirelabError("--secret-file needs one process: leave out --dask")
        _run_on_dask(args)
        return 0
    eng = load_engine(args)
    try:
        if args.json:
            write_summary_json(eng, sys.stdout, summaries=args.message_text, secret=secret)
        else:
            from analyzer.render.summary_text import print_summary_text  # rich: text output only
            print_summary_text(eng, args.messages, secret=secret)
    finally:
        eng.close()
    return 0


def _run_on_dask(args) -> None:
    """`--json --dask ADDRESS`: the two passes of analyzer.distributed on a Dask cluster."""
    from analyzer.commands.options import capture_paths, parse_decode_as
    from analyzer.distributed.run import dask_client, summary_on_dask
    from analyzer.engine.loader import display_name
    from analyzer.sources import sidecar
    from analyzer.sources.merged import capture_files

    paths = capture_paths(args)
    files = capture_files(paths)
    decode_as = parse_decode_as(args.decode_as)
    records = None
    if not args.no_sidecar:
        records = [r for f in files for r in sidecar.load_beside(f) or []] or None
    with dask_client(args.dask) as client:
        if client.dashboard_link and _has_dashboard():
            print(f"wirelab: Dask dashboard: {client.dashboard_link}", file=sys.stderr)
        info = summary_on_dask(client, files, display_name(paths), sys.stdout, decode_as,
                               records, args.message_text, progress=sys.stderr.isatty())
    for w in info["warnings"]:
        print(f"wirelab: warning: {w}", file=sys.stderr)


def _has_dashboard() -> bool:
    """Dask serves its dashboard only when bokeh is installed."""
    import importlib.util
    return importlib.util.find_spec("bokeh") is not None
