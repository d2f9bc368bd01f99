"""`wirelab export-objects FILE DIR`: save the files a capture carries, like Wireshark's
File > Export Objects.

filexfer uploads (named by their JSON header's filename, sha256 checked when the header has
one) and download replies (named by the request's filename); bigreply reports (named
`REPORT.txt` after the report's name).  Names are refused exactly as the filexfer server
refuses them (dissectors.filexfer.filename_problem and the server's own checks); a file that
already exists in DIR is never overwritten.  One line per object on standard output."""
from __future__ import annotations

import hashlib
import os
import struct
import sys
from dataclasses import dataclass

from analyzer.commands.options import add_common_arguments, load_engine
from analyzer.errors import WirelabError
from analyzer.lab.filestore import local_name_problem
from dissectors.filexfer import RemoteProtocolError, filename_problem, parse_json_object

HELP = "save the files a capture carries (filexfer uploads and downloads, bigreply reports)"
MAX_OBJECT = 1 << 31


@dataclass
class Found:
    packet: int            # the packet that completes the object
    stream: int
    kind: str              # "upload" | "download" | "report"
    name: str
    data: bytes
    sha256: str | None = None     # what the header announced
    problem: str | None = None    # why it is not saved


def add_arguments(p) -> None:
    add_common_arguments(p)
    p.add_argument("directory", metavar="DIR", help="directory to save the objects in (created)")


def _filexfer_objects(eng, conv) -> list[Found]:
    order = "<i" if (conv.protocol or "").endswith(":native") else "!I"
    out, wanted = [], None
    for m in conv.messages:
        raw = eng.message_bytes(conv, m, min(m.length, MAX_OBJECT))
        if len(raw) < 4:
            continue
        (hlen,) = struct.unpack(order, raw[:4])
        if hlen < 1 or 4 + hlen > len(raw):
            continue
        try:
            info = parse_json_object(raw[4: 4 + hlen])
        except RemoteProtocolError:
            continue
        content = raw[4 + hlen:]
        last = m.packets[-1] if m.packets else 0
        if m.direction == "c2s":
            if info.get("op") == "get":
                wanted = info.get("filename")
                continue
            size = info.get("filesize")
            found = Found(last, conv.id, "upload", info.get("filename"), content, info.get("sha256"))
        else:
            if not info.get("ok") or "stored" in info or "size" not in info:
                continue
            size = info.get("size")
            found = Found(last, conv.id, "download", wanted, content, info.get("sha256"))
            wanted = None
        if not isinstance(size, int) or len(content) != size:
            found.problem = f"incomplete: {len(content)} of {size} bytes in the capture"
        out.append(found)
    return out


def _bigreply_objects(eng, conv) -> list[Found]:
    out = []
    for m in conv.messages:
        if m.direction != "s2c":
            continue
        raw = eng.message_bytes(conv, m, min(m.length, MAX_OBJECT))
        line, _, body = raw.partition(b"\n")
        parts = line.decode("utf-8", "replace").split()
        if len(parts) != 3 or parts[0] != "REPORT":
            continue
        found = Found(m.packets[-1] if m.packets else 0, conv.id, "report", f"{parts[1]}.txt", body)
        if not parts[2].isdigit() or len(body) != int(parts[2]):
            found.problem = f"incomplete: {len(body)} of {parts[2]} bytes in the capture"
        out.append(found)
    return out


def find_objects(eng) -> list[Found]:
    """Every object of every conversation, in order of the packet that completes it."""
    out = []
    for conv in eng.conversations:
        proto = (conv.protocol or "").split(":")[0]
        if proto == "filexfer":
            out += _filexfer_objects(eng, conv)
        elif proto == "bigreply":
            out += _bigreply_objects(eng, conv)
    return sorted(out, key=lambda f: f.packet)


def _save(directory: str, found: Found) -> str:
    """Write one object (never over an existing file); returns the outcome in words."""
    name = found.name
    problem = found.problem or filename_problem(name) or local_name_problem(name)
    if problem:
        return f"refused: {problem}"
    digest = hashlib.sha256(found.data).hexdigest()
    check = ""
    if found.sha256 is not None:
        if digest != found.sha256:
            return f"refused: sha256 mismatch (header {found.sha256[:16]}…, content {digest[:16]}…)"
        check = ", sha256 ok"
    path = os.path.join(directory, name)
    tmp = os.path.join(directory, f".wirelab-export-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(found.data)
        os.link(tmp, path)
    except FileExistsError:
        return "skipped: a file of that name exists"
    except OSError as exc:
        raise WirelabError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return f"saved{check}"


def run(args) -> int:
    directory = args.directory
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise WirelabError(f"{directory}: not a directory")
    eng = load_engine(args)
    try:
        objects = find_objects(eng)
    finally:
        eng.close()
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise WirelabError(f"cannot create {directory}: {exc.strerror or exc}") from None
    saved = 0
    print(f"{'packet':>7} {'stream':>6}  {'kind':<8} {'size':>9}  name -> outcome")
    for found in objects:
        outcome = _save(directory, found)
        saved += outcome.startswith("saved")
        print(f"{found.packet:>7} {found.stream:>6}  {found.kind:<8} {len(found.data):>9}  "
              f"{found.name!r} -> {outcome}")
    print(f"{saved} of {len(objects)} objects saved in {directory}", file=sys.stderr)
    return 0
