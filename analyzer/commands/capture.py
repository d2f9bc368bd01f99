"""`wirelab capture`: live capture like `tcpdump -w` / dumpcap, fed to the engine as packets
arrive.

Ctrl-C, SIGTERM and SIGHUP (a closed terminal, a dropped SSH session) all stop it cleanly:
the capture child drains the socket, the file is closed whole and the counts are printed.
Exit status: 0 done; 2 a usage error (bad option, filter, interface, an output file that
cannot be created); 1 the capture failed while running (a full disk: the message says how
many packets the file keeps); 3 no capture rights.
"""
from __future__ import annotations

import json
import os
import signal
import sys

from analyzer.errors import WirelabError

HELP = "capture packets live (like tcpdump -w / dumpcap)"


class CaptureFailed(WirelabError):
    """The capture failed while running (not a usage error): exit status 1."""

    exit_code = 1


def add_arguments(p) -> None:
    p.add_argument("-i", "--interface", default="lo",
                   help="interface name or number from -D; `any` captures on all of them "
                        "(Linux cooked v2 frames, as tcpdump -i any) (default: lo)")
    p.add_argument("-D", "--list-interfaces", action="store_true",
                   help="list the interfaces a capture can use and exit (as dumpcap -D)")
    p.add_argument("-f", "--filter", default="", metavar="BPF",
                   help='capture filter in BPF syntax, e.g. "tcp port 9000"')
    p.add_argument("-w", "--write", metavar="FILE",
                   help="write the packets to this file (pcapng if it ends in .pcapng, "
                        "else pcap; see -F)")
    p.add_argument("-F", dest="file_format", choices=("pcap", "pcapng"),
                   help="file format of -w (default: from the file name)")
    p.add_argument("-b", dest="ring", action="append", default=[], metavar="KEY:VALUE",
                   help="ring buffer as dumpcap: filesize:KB (kB = 1000 bytes) or duration:S "
                        "start the next file, files:N keeps the newest N; files are named "
                        "PREFIX_NNNNN_YYYYmmddHHMMSS.EXT after -w PREFIX.EXT (repeatable)")
    p.add_argument("-c", "--count", type=int, metavar="N", help="stop after N packets")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--print", dest="print_rows", action="store_true",
                   help="print one line per packet even when writing a file")
    p.add_argument("--summary", action="store_true",
                   help="at the end, print the `wirelab summary --json` object of what was captured")


def _say(text: str, file=None) -> None:
    """Print, and carry on when the terminal is gone (after SIGHUP writes fail with EIO)."""
    try:
        print(text, file=file or sys.stdout, flush=file is sys.stderr)
    except (OSError, ValueError):
        pass


def _header_line(n: int, rec) -> str:
    """A packet's line from its own headers (after the analysis stopped on an error)."""
    from analyzer.decode import decode_frame
    from analyzer.decode.decoded import flags_text
    d = decode_frame(rec.linktype, rec.data, rec.origlen)
    if d.transport == "tcp":
        info = f"{d.sport} → {d.dport} [{flags_text(d.flags)}] Seq={d.seq} Ack={d.ack} Len={d.payload_len}"
    elif d.transport == "udp":
        info = f"{d.sport} → {d.dport} Len={d.payload_len}"
    else:
        info = d.malformed or d.transport
    return f"{n:>6} {rec.ts:.6f} {d.src or '?'} → {d.dst or '?'} {d.protocol} {rec.origlen} {info}"


def _list_interfaces() -> int:
    from analyzer.sources.live import list_interfaces
    for k, (name, description) in enumerate(list_interfaces(), 1):
        _say(f"{k}. {name}" + (f" ({description})" if description else ""))
    return 0


def _interface(text: str) -> str:
    """-i as given, or the name of interface number N of -D's list."""
    if not text.isdigit():
        return text
    from analyzer.sources.live import list_interfaces
    names = [name for name, _ in list_interfaces()]
    k = int(text)
    if not 1 <= k <= len(names):
        raise WirelabError(f"no interface number {k} (wirelab capture -D lists {len(names)})")
    return names[k - 1]


def _output(args, iface: str):
    """The Output for -w/-F/-b, or None; WirelabError for a bad combination."""
    from analyzer.sources.live import Output
    from analyzer.sources.ring_buffer import parse_ring_options
    try:
        ring = parse_ring_options(args.ring)
    except ValueError as exc:
        raise WirelabError(str(exc)) from None
    if not args.write:
        if args.ring or args.file_format:
            raise WirelabError("-b and -F need -w FILE")
        return None
    comment = f"wirelab capture on {iface}" + (f", filter {args.filter!r}" if args.filter else "")
    return Output(args.write, args.file_format, ring if args.ring else None, iface, comment)


def _check(args) -> None:
    if args.count is not None and args.count <= 0:
        raise WirelabError("-c/--count must be a positive number of packets")
    if args.duration is not None and not 0 < args.duration < float("inf"):
        raise WirelabError("--duration must be a positive number of seconds")


class _Stop(BaseException):
    """SIGTERM or SIGHUP: stop like Ctrl-C (raised in the main thread by the handler)."""


def _stop_on_signals() -> dict:
    """SIGTERM and SIGHUP stop the capture cleanly (once; a repeat is ignored while it
    stops).  Returns the previous handlers."""
    def handler(signum, _frame):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        raise _Stop()
    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}


def _consumer(eng, show_rows: bool):
    """The function that feeds one Record to the engine and prints its row."""
    from analyzer.render.rows import row
    state = {"n": 0, "eng": eng}

    def consume(rec) -> None:
        state["n"] += 1
        engine = state["eng"]
        if engine is not None:
            try:
                engine.feed(rec)
            except Exception as exc:  # the capture must survive an analysis bug
                _say(f"wirelab capture: analysis stopped: {exc}", sys.stderr)
                state["eng"] = engine = None
        if show_rows:
            line = None
            if engine is not None:
                try:
                    r = row(engine, engine.packet_count)
                    line = (f"{r.number:>6} {r.time:10.6f} {r.src} → {r.dst} {r.protocol} "
                            f"{r.length} {r.info}")
                except Exception:
                    line = None
            _say(line or _header_line(state["n"], rec))
    return consume, state


def run(args) -> int:
    from analyzer.engine import Engine
    from analyzer.render.summary_json import summary_json
    from analyzer.sources.live import LiveCapture

    if args.list_interfaces:
        return _list_interfaces()
    _check(args)
    iface = _interface(args.interface)
    output = _output(args, iface)
    show_rows = args.print_rows or not args.write
    cap = LiveCapture(iface, args.filter, count=args.count, duration=args.duration,
                      write_to=output)
    cap.start()
    previous = _stop_on_signals()
    try:
        # the capture runs in its own process; analysis here yields the CPU to it (and to the
        # traffic) when the machine is busy, like Wireshark's analysis behind dumpcap
        os.nice(10)
    except OSError:
        pass
    _say(f"capturing on {iface}" + (f", filter {args.filter!r}" if args.filter else "")
         + (f", writing {args.write}" if args.write else ""), sys.stderr)
    consume, state = _consumer(Engine(), show_rows)
    try:
        try:
            for rec in cap:
                consume(rec)
        except (KeyboardInterrupt, _Stop):
            pass
        finally:
            cap.stop()
        for rec in cap.drain():          # what arrived between the last iteration and stop()
            consume(rec)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return _report(cap, args, state["eng"], summary_json)


def _report(cap, args, eng, summary_json) -> int:
    """Counts on stderr (and the summary); CaptureFailed when the capture failed."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    captured, dropped = cap.stats
    if cap.error is not None:
        saved = (f"; {cap.saved} packets saved in {cap.write_to}" if cap.write_to else "")
        raise CaptureFailed(f"capture failed: {cap.error}{saved}")
    _say(f"{captured} packets captured", sys.stderr)
    _say(f"{dropped} packets dropped", sys.stderr)
    if args.summary and eng is not None:
        eng.finish()
        _say(json.dumps(summary_json(eng), indent=2))
    return 0
