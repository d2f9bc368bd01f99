"""Conversation-partitioned parallel analysis for `wirelab summary --json`.

    from analyzer.parallel import default_jobs, write_summary_parallel
    info = write_summary_parallel(path, sys.stdout, jobs=2)     # same JSON as --jobs 1

Design: N processes (this one is part 0, N-1 forked children) each read the whole capture
(mmap) and compute a cheap partition key for every packet: a hash of the unordered pair of
TCP/UDP endpoints {(ip, port), (ip, port)} (a struct peek for Ethernet/IPv4, else the
engine's own decode_frame).  All packets of one 4-tuple (port reuse included) land in the same
part; packets that are not TCP/UDP go to part 0.  Each part feeds only its own packets to an
ordinary Engine, numbered 1..k locally, and keeps the table local -> global packet number.
Local numbering keeps the engine's per-packet arrays for its own packets only, and preserves
order, so every decision of the flow table, the TCP analysis, reassembly and the codecs is the
same as in one process (they are all per conversation).  Loopback-twin detection compares a
frame with the previous one fed: a part forgets its previous frame whenever the global
predecessor of the packet it feeds belongs to another part, so a twin is only ever a twin of
packet n-1 (an identical frame always has the same key, so n-1 and n are in the same part).

Each part writes its conversations, one compact JSON object per line in order of first
packet, with packet numbers translated to global ones, to a temp file.  The parent merges the
parts by first packet (heapq.merge over the files), renumbers conversation ids per transport
in that order (tshark's tcp.stream / udp.stream) and writes the `summary --json` object:
byte-identical to the single-process output.

Errors: the capture is opened and checked in the parent before anything is forked (a bad file
gives the usual one-line error).  A child that fails reports one line; the caller falls back
to the single-process path (ParallelFailed).  Ctrl-C: children die with the default SIGINT
action, the parent kills and reaps the rest and removes the temp files.  A child whose parent
disappears stops by itself.

Engine API used: new_engine_for(..., summary_only=True) (a part skips the columns only views
read), Engine.forget_previous_frame() (keeps twins global), Engine.feed_many (the lock is
taken once), Engine.states and ConvState.pk / .flow with
analyzer.render.summary_json.conversation_json_text (the fast JSON path; conversation_json()
for --message-text).
"""
from __future__ import annotations

import gc
import heapq
import json
import os
import re
import resource
import shutil
import signal
import socket
import struct
import sys
import tempfile
import zlib
from array import array

from analyzer.render.summary_json import (conversation_json, conversation_json_text,
                                          loopback_duplicates)

MIN_PARALLEL_BYTES = 20 << 20     # smaller files: one process (forking costs more than it saves)
MAX_JOBS = 4
_MIX = 0x9E3779B97F4A7C15          # Fibonacci hashing of the endpoint-pair key
_IP4_PORTS = struct.Struct("!IIHH")
# from byte 12 of an Ethernet frame: ethertype, IPv4 version/IHL, flags/fragment offset,
# protocol, source and destination address, source and destination port
_ETH_IP4 = struct.Struct("!HB5xHxB2xIIHH")
_ID_PREFIX = re.compile(r'\{"id":(\d+),"transport":"(tcp|udp)",')
_NUMBERS = re.compile(r'"(first_packet|last_packet)":(\d+)|"(frames|coalesced_packets)":\[([\d,]*)\]')


class ParallelFailed(Exception):
    """A worker failed: the caller should analyse in one process instead (message = why)."""


def default_jobs(path: str) -> int:
    """Processes to use for `path`: 1 for small files, else the CPUs (at most MAX_JOBS)."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return 1
    if size < MIN_PARALLEL_BYTES:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))      # the CPUs this process may run on
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_JOBS))


# -- partitioning ----------------------------------------------------------------------------
def _ip_int(text: str) -> int:
    fam = socket.AF_INET6 if ":" in text else socket.AF_INET
    return int.from_bytes(socket.inet_pton(fam, text), "big")


def slow_key(linktype: int, data: bytes, origlen: int) -> int | None:
    """Partition key of a frame from the engine's own decode (None: not a TCP/UDP packet the
    flow table would take).  Same value as the fast Ethernet/IPv4 peek for the same endpoints."""
    from analyzer.decode import decode_frame
    d = decode_frame(linktype, data, origlen)
    if d.malformed or d.transport not in ("tcp", "udp") or d.payload_offset < 0:
        return None
    try:
        return ((_ip_int(d.src) << 16) | d.sport) ^ ((_ip_int(d.dst) << 16) | d.dport)
    except (OSError, ValueError, TypeError):
        a, b = f"{d.src}|{d.sport}".encode(), f"{d.dst}|{d.dport}".encode()
        return zlib.crc32(min(a, b) + b"/" + max(a, b))


def part_of_key(key: int | None, jobs: int) -> int:
    if key is None:
        return 0
    return ((key * _MIX) >> 40) % jobs


def partition(linktype: int, data: bytes, origlen: int, jobs: int) -> int:
    """The part (0..jobs-1) that analyses this frame (reference version of the inline peek)."""
    if (linktype == 1 and len(data) >= 38 and data[12] == 8 and data[13] == 0
            and data[14] == 0x45 and (data[23] == 6 or data[23] == 17)
            and not (data[20] & 0x3F or data[21])):
        sip, dip, sp, dp = _IP4_PORTS.unpack_from(data, 26)
        return part_of_key(((sip << 16) | sp) ^ ((dip << 16) | dp), jobs)
    return part_of_key(slow_key(linktype, data, origlen), jobs)


# -- one part --------------------------------------------------------------------------------
def _own_records(src, part: int, jobs: int, limit, count: list):
    """Yield (global packet number, Record) for this part's packets; count[0] = packets read.

    The source's header scan walks the file (for classic pcap, header to header over the map,
    no packet bytes copied); every packet's owner is found by a peek at its frame in the map,
    and a Record is built (`src.record`, exactly as iteration builds it) only for this part's
    packets.  The scan stops where iteration stops, with the source's own warnings.  The
    limit is checked after the next header is read, so at `-c` = the complete records the
    damage that follows is still reached (and warned about)."""
    buf = src.buffer
    record = src.record
    release = src.release_pages
    parent = os.getppid()
    mix = _MIX
    peek = _ETH_IP4.unpack_from
    g = 0
    for header in src.scan_headers():
        if limit is not None and g >= limit:
            break
        g += 1
        dpos, caplen, origlen, _ts, lt = header
        owner = -1
        if lt == 1 and caplen >= 38:
            et, vi, ff, pr, sip, dip, sp, dp = peek(buf, dpos + 12)
            if et == 0x800 and vi == 0x45 and not ff & 0x3FFF and (pr == 6 or pr == 17):
                owner = ((((sip << 16) | sp) ^ ((dip << 16) | dp)) * mix >> 40) % jobs
        if owner < 0:
            owner = part_of_key(slow_key(lt, buf[dpos:dpos + caplen], origlen), jobs)
        if not g & 0xFFF:
            # drop the file pages already read from our RSS (reassembly re-reads a
            # frame now and then: it faults back in)
            if dpos > 65536:
                release(dpos - 65536)
            if part and os.getppid() != parent:      # the parent is gone: stop
                os._exit(1)
        if owner == part:
            yield g, record(header)
    count[0] = g


def _analyze_part(path: str, part: int, jobs: int, decode_as, limit, sidecar, src):
    """Feed this part's packets to an Engine (local numbers); returns (engine, table of global
    numbers, packets in the capture)."""
    from analyzer.engine import new_engine_for
    eng = new_engine_for(path, src, decode_as, sidecar, summary_only=True)
    forget = eng.forget_previous_frame
    glob = array("I")
    add_glob = glob.append
    count = [0]

    def own_records():
        last = -1
        for g, rec in _own_records(src, part, jobs, limit, count):
            if g != last + 1:
                # the previous frame fed is not packet g-1: packet g cannot be its twin
                forget()
            add_glob(g)
            last = g
            yield rec

    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        eng.feed_many(own_records())
    finally:
        if gc_was_enabled:
            gc.enable()
    eng.warnings.extend(src.warnings)
    eng.finish()
    return eng, glob, count[0]


def _translate_list(text: str, glob) -> str:
    if not text:
        return text
    return ",".join([str(glob[int(x) - 1]) for x in text.split(",")])


def _conversation_lines(eng, glob, summaries: bool):
    """(first packet, line) per conversation of `eng`, in order of first packet, with packet
    numbers translated to global ones (the conversation id stays local)."""
    if not summaries:
        for cs in eng.states:
            cs.pk = array(cs.pk.typecode, [glob[x - 1] for x in cs.pk])
            text = conversation_json_text(eng, cs)

            def sub(m):
                if m.group(1):
                    return f'"{m.group(1)}":{glob[int(m.group(2)) - 1]}'
                return f'"{m.group(3)}":[{_translate_list(m.group(4), glob)}]'
            text = _NUMBERS.sub(sub, text)
            yield glob[cs.flow.first_packet - 1], text
        return
    for cs in eng.states:
        c = conversation_json(eng, cs, summaries)
        for k in ("first_packet", "last_packet"):
            c[k] = glob[c[k] - 1]
        for k in ("handshake", "teardown"):
            if isinstance(c.get(k), dict) and "frames" in c[k]:
                c[k]["frames"] = [glob[x - 1] for x in c[k]["frames"]]
        c["coalesced_packets"] = [glob[x - 1] for x in c["coalesced_packets"]]
        for m in c["messages"]:
            m["packets"] = [glob[x - 1] for x in m["packets"]]
        yield c["first_packet"], json.dumps(c, separators=(",", ":"))


def _run_part(path, part, jobs, decode_as, limit, sidecar, src, out_path, summaries) -> dict:
    """Analyse one part, write its conversation lines to out_path; returns its meta dict."""
    eng, glob, total = _analyze_part(path, part, jobs, decode_as, limit, sidecar, src)
    pss = _pss_kb()          # at the end of the analysis, about the peak (memory only grows)
    with open(out_path, "w", encoding="utf-8") as f:
        for first, text in _conversation_lines(eng, glob, summaries):
            # checked here, in the worker: a layout the merge does not know fails the
            # parallel path before anything is written (the caller falls back)
            m = _ID_PREFIX.match(text)
            if m is None or "\n" in text:
                raise ValueError("unexpected conversation JSON layout: " + text[:60])
            f.write(f"{first} {m.group(2)} {text[m.end(1):]}\n")
    meta = {"part": part, "packets": total, "fed": len(glob),
            "loopback_duplicates": loopback_duplicates(eng), "warnings": list(eng.warnings),
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "pss_kb": pss}
    eng.close()
    return meta


def _pss_kb() -> int | None:
    """This process's proportional set size (pages shared with the other parts, e.g. the
    interpreter and modules inherited through fork, counted once across them), or None."""
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _child(path, part, jobs, decode_as, limit, sidecar, out_path, summaries) -> None:
    """Body of a forked worker; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from analyzer.sources.open import open_capture
        src = open_capture(path)
        try:
            meta = _run_part(path, part, jobs, decode_as, limit, sidecar, src, out_path, summaries)
        finally:
            src.close()
        with open(out_path + ".meta", "w", encoding="utf-8") as f:
            json.dump(meta, f)
        code = 0
    except BaseException as exc:       # one line for the parent, never a traceback
        try:
            with open(out_path + ".err", "w", encoding="utf-8") as f:
                f.write(f"{type(exc).__name__}: {exc}"[:500])
        except BaseException:
            pass
    finally:
        os._exit(code)


def _merge(parts: list[str], head: dict, fp) -> int:
    """Merge the parts' conversation lines by first packet; renumber ids per transport."""
    files = [open(p, encoding="utf-8") for p in parts]
    try:
        def lines(f):
            for line in f:       # "<first packet> <transport> ,<the rest after the id>"
                first, transport, rest = line.split(" ", 2)
                yield int(first), transport, rest

        text = json.dumps(head, separators=(",", ":"))
        fp.write(text[:-1] + ',"conversations":[')
        next_id = {}
        k = 0
        for _first, transport, rest in heapq.merge(*(lines(f) for f in files),
                                                   key=lambda x: x[0]):
            cid = next_id.get(transport, 0)
            next_id[transport] = cid + 1
            if k:
                fp.write(",")
            fp.write('{"id":%d' % cid)
            fp.write(rest[:-1] if rest.endswith("\n") else rest)
            k += 1
        fp.write("]}\n")
        return k
    finally:
        for f in files:
            f.close()


def write_summary_parallel(path: str, fp, jobs: int, decode_as=None, limit=None,
                           sidecar=None, summaries: bool = False, warn=None) -> dict:
    """Write the `summary --json` object of `path` to fp using `jobs` processes.

    The capture must already have been checked (open_capture) by the caller.  Returns
    {"processes": [{"part", "maxrss_kb", ...}], "warnings": [...]}.  Raises ParallelFailed
    (nothing written to fp) when a worker fails."""
    from analyzer.sources.open import open_capture
    jobs = max(1, int(jobs))
    try:
        tmp = tempfile.mkdtemp(prefix="wirelab-parallel-")
    except OSError as exc:
        raise ParallelFailed(f"no temporary directory: {exc.strerror or exc}") from None
    outs = [os.path.join(tmp, f"part{i}.jsonl") for i in range(jobs)]
    pids: dict[int, int] = {}
    old_term = None
    try:
        # a plain `kill` of this process: clean up (kill the workers, remove the temp files)
        old_term = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:                  # not the main thread: leave SIGTERM alone
        pass
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        for part in range(1, jobs):
            try:
                pid = os.fork()
            except OSError as exc:
                raise ParallelFailed(f"cannot start worker {part}: {exc.strerror or exc}") from None
            if pid == 0:
                _child(path, part, jobs, decode_as, limit, sidecar, outs[part], summaries)
            pids[pid] = part
        src = open_capture(path)
        try:
            meta0 = _run_part(path, 0, jobs, decode_as, limit, sidecar, src, outs[0], summaries)
        except Exception as exc:         # a bug or no memory: let one process try (and say)
            raise ParallelFailed(f"part 0 {type(exc).__name__}: {exc}"[:500]) from None
        finally:
            src.close()
        gc.collect()
        metas = [meta0]
        failures = []
        for pid, part in list(pids.items()):     # only our own children (never waitpid(-1))
            _pid, status = os.waitpid(pid, 0)
            del pids[pid]
            code = os.waitstatus_to_exitcode(status)
            if code != 0:
                why = ""
                try:
                    with open(outs[part] + ".err", encoding="utf-8") as f:
                        why = f.read().strip()
                except OSError:
                    pass
                failures.append(f"worker {part} " + (why or f"exited with status {code}"))
                continue
            try:
                with open(outs[part] + ".meta", encoding="utf-8") as f:
                    metas.append(json.load(f))
            except (OSError, ValueError) as exc:
                failures.append(f"worker {part}: no result ({exc})")
        if failures:
            raise ParallelFailed("; ".join(failures))
        metas.sort(key=lambda m: m["part"])
        head = {"file": path, "packets": meta0["packets"],
                "loopback_duplicates": sum(m["loopback_duplicates"] for m in metas),
                "warnings": meta0["warnings"]}
        if warn is not None:
            for w in meta0["warnings"]:
                warn(w)
        _merge(outs, head, fp)
        return {"processes": [{"part": m["part"], "maxrss_kb": m["maxrss_kb"],
                               "pss_kb": m.get("pss_kb"), "packets_fed": m["fed"]}
                              for m in metas],
                "warnings": meta0["warnings"]}
    finally:
        for pid in list(pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(pids):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def write_rusage_report(path: str, info: dict) -> None:
    """Write each process's own peak RSS (this one measured now, at the end) as JSON, for
    benchmarks/bench_analysis.py (set WIRELAB_RUSAGE_REPORT=FILE): the sum is the peak of
    the process tree at worst (the parts peak at about the same time)."""
    procs = [dict(p) for p in info["processes"]]
    for p in procs:
        if p["part"] == 0:
            p["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"processes": procs,
                   "sum_maxrss_kb": sum(p["maxrss_kb"] for p in procs),
                   "sum_pss_kb": sum(p.get("pss_kb") or 0 for p in procs)}, f)
