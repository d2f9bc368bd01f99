"""`wirelab summary FILE`: conversations, handshakes, teardowns, messages, sticky packets."""
from __future__ import annotations

import os
import sys

from analyzer.commands.options import add_common_arguments, load_engine
from analyzer.render.summary_json import write_summary_json
from analyzer.render.summary_text import print_summary_text

HELP = "conversations, handshakes, teardowns and messages of a capture"


def add_arguments(p) -> None:
    add_common_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (the output contract)")
    p.add_argument("--message-text", action="store_true",
                   help="with --json: add each message's one-line summary (decodes every message)")
    p.add_argument("--messages", type=int, default=20, metavar="N",
                   help="messages listed per conversation in text output (default 20, 0 = all)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="with --json: analyse in N processes, conversations split between them "
                        "(default: the CPUs, at most 4, for files over 20 MB; 1 = one process)")


def run(args) -> int:
    if args.json and _run_parallel(args):
        return 0
    eng = load_engine(args)
    try:
        if args.json:
            write_summary_json(eng, sys.stdout, summaries=args.message_text)
        else:
            print_summary_text(eng, args.messages)
    finally:
        eng.close()
    return 0


def _run_parallel(args) -> bool:
    """`--json` in several processes (analyzer.parallel); False: use one process.
    The file and the options are checked here, before anything is forked."""
    from analyzer import parallel
    from analyzer.sources import sidecar
    from analyzer.commands.options import capture_path, parse_decode_as
    from analyzer.errors import WirelabError
    from analyzer.sources.open import open_capture

    jobs = args.jobs
    if jobs is not None and jobs < 1:
        raise WirelabError("--jobs needs a number >= 1")
    path = capture_path(args)
    if jobs is None:
        jobs = parallel.default_jobs(path)
    if jobs <= 1 or not hasattr(os, "fork"):
        return False
    decode_as = parse_decode_as(args.decode_as)
    if args.count is not None and args.count < 0:
        raise WirelabError("-c needs a count >= 0")
    open_capture(path).close()                     # a bad file: the usual one-line error
    records = None if args.no_sidecar else sidecar.load_beside(path)
    try:
        info = parallel.write_summary_parallel(
            path, sys.stdout, jobs, decode_as=decode_as, limit=args.count, sidecar=records,
            summaries=args.message_text,
            warn=lambda w: print(f"wirelab: warning: {w}", file=sys.stderr))
    except parallel.ParallelFailed as exc:
        print(f"wirelab: warning: parallel analysis failed ({exc}): analysing in one process",
              file=sys.stderr)
        return False
    report = os.environ.get("WIRELAB_RUSAGE_REPORT")
    if report:
        parallel.write_rusage_report(report, info)
    return True
