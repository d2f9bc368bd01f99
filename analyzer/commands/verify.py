"""`wirelab verify FILE`: compare wirelab's analysis with tshark's; exit 0 when they agree."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from analyzer.commands.options import add_decode_as_argument, parse_decode_as
from analyzer.errors import WirelabError

HELP = "compare wirelab's analysis with tshark's on a capture"


def add_arguments(p) -> None:
    p.add_argument("file", nargs="+", metavar="FILE",
                   help="capture file (pcap, pcapng, ...); several files or a directory are "
                        "merged in time order with mergecap first (tshark reads one file)")
    add_decode_as_argument(p)
    p.add_argument("--tshark-option", action="append", default=[], metavar="PREF:VALUE",
                   help="a tshark -o preference, e.g. tcp.analyze_sequence_numbers:FALSE")
    p.add_argument("--json", action="store_true",
                   help='print one JSON object: {"agree", "disagreements", "packets", ...}')
    p.add_argument("--messages", action="store_true",
                   help="also compare application messages with tshark running wirelab's Lua "
                        "plugin (chat in line mode), and a dissector generated for each "
                        "--decode-as port with a stated or inferred framing")


def run(args) -> int:
    if len(args.file) == 1 and not os.path.isdir(args.file[0]):
        return _verify(args, args.file[0])
    from analyzer.sources.merged import capture_files
    files = capture_files(args.file)
    for f in files:
        if not os.path.isfile(f):
            raise WirelabError(f"{f}: no such file")
    with tempfile.TemporaryDirectory(prefix="wirelab-verify-") as tmp:
        merged = os.path.join(tmp, "merged.pcapng")
        r = subprocess.run(["mergecap", "-F", "pcapng", "-w", merged, *files],
                           capture_output=True, text=True)
        if r.returncode:
            why = (r.stderr.strip().splitlines() or ["mergecap failed"])[-1]
            raise WirelabError(f"cannot merge the captures: {why}")
        return _verify(args, merged)


def _verify(args, path: str) -> int:
    from analyzer.wireshark.verify import verify_file

    if os.path.isdir(path):
        raise WirelabError(f"{path}: is a directory")
    if not os.path.isfile(path):
        raise WirelabError(f"{path}: no such file")
    decode_as = parse_decode_as(args.decode_as)
    try:
        result = verify_file(path, tshark_options=args.tshark_option, decode_as=decode_as)
    except MemoryError:
        raise WirelabError(f"{path}: out of memory while reading") from None
    except OSError as exc:
        raise WirelabError(f"{path}: {exc.strerror or exc}") from None
    for side in (result.wirelab, result.tshark):
        for w in side.warnings:
            print(f"wirelab verify: warning ({side.source}): {w}", file=sys.stderr)
    lines = list(result.disagreements)
    extra = ""
    report = None
    if args.messages:
        from analyzer.wireshark.lua_compare import compare_capture

        report = compare_capture(path, decode_as=decode_as)
        lines += [f"messages: {d}" for d in report.disagreements]
        extra = f", {report.compared} messages"
        if report.unterminated:
            extra += f" ({report.unterminated} unterminated chat lines not compared)"
        if report.heuristic_only:
            extra += (f" (not compared, found by wirelab's heuristics only, use --decode-as: "
                      f"{', '.join(report.heuristic_only)})")
        if report.other_framing:
            extra += (f" (not compared, cut otherwise than their port's framing: "
                      f"{', '.join(report.other_framing)})")
    if args.json:
        import json

        w = result.wirelab
        obj = {"file": path, "agree": not lines, "disagreements": lines, "packets": w.packets,
               "conversations": {"tcp": w.conversations("tcp"), "udp": w.conversations("udp")},
               "analysis_flags": sum(len(v) for v in w.analysis.values()),
               "set_aside": sorted(w.skip_analysis), "notes": result.tshark.notes}
        if report is not None:
            obj["messages"] = {"compared": report.compared, "unterminated": report.unterminated,
                               "heuristic_only": report.heuristic_only,
                               "other_framing": report.other_framing}
        print(json.dumps(obj))
        return 1 if lines else 0
    n = len(lines)
    if n:
        for line in lines + result.tshark.notes:
            print(line)
        print(f"{n} disagreement{'s' if n != 1 else ''}")
        return 1
    print(result.summary_line() + extra)
    for line in result.tshark.notes:
        print(line)
    return 0
