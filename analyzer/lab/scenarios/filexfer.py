"""filexfer: an upload over the header-length + JSON + content protocol, recovered from the pcap."""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import struct
import tempfile
import time

from analyzer.lab.scenarios.analysis import conv_by_client_port, port_of, stream_bytes
from analyzer.lab.scenarios.base import bpf_ports
from analyzer.lab.scenarios.peers import AppConn

NAME = "filexfer"
SIDECAR = True    # the lab records every send()/recv() beside the capture
TITLE = "A file upload, extracted back out of the capture"
DEMONSTRATES = ("A client uploads a 20 KB file: 4-byte header length, JSON header "
                "(filename, filesize, sha256), then the content. The analysis reassembles the "
                "TCP stream, parses the header, extracts the file and checks its sha256.")
EXPLANATION = (
    "A TCP segment boundary means nothing to a file transfer: the header and the content are "
    "cut wherever the kernel likes. The protocol carries the header's length and the file's "
    "size, so the receiver (and a dissector replaying the capture) knows exactly where the "
    "header ends and how many content bytes follow. Whatever the segments, the reassembled "
    "bytes give back the file bit for bit, which the sha256 proves.")
SIZE = 20_000


def sample_file() -> tuple[str, bytes]:
    rnd = random.Random(4242)
    text = b"".join(b"line %05d %s\n" % (i, bytes(rnd.choice(b"abcdefghijklmnop") for _ in range(40)))
                    for i in range(SIZE // 52 + 1))
    return "notes.txt", text[:SIZE]


def traffic(lab, opts) -> dict:
    name, content = sample_file()
    upload_dir = tempfile.mkdtemp(prefix="wirelab-upload-")
    server = lab.reference_server("filexfer", 9002, upload_dir=upload_dir)
    port = server.port
    header = json.dumps({"filename": name, "filesize": len(content),
                         "sha256": hashlib.sha256(content).hexdigest()}).encode()
    with lab.capture(bpf_ports("tcp", [port])):
        c = AppConn.connect(port, lab.appio)
        c.send(struct.pack("!I", len(header)) + header)
        c.send(content)
        n = struct.unpack("!I", c.recv_exactly(4))[0]
        status = json.loads(c.recv_exactly(n))
        c.close()
        time.sleep(0.05)              # the server sees the FIN and closes its side
    stored = os.path.join(upload_dir, name)
    stored_sha = None
    if os.path.exists(stored):
        with open(stored, "rb") as f:
            stored_sha = hashlib.sha256(f.read()).hexdigest()
    shutil.rmtree(upload_dir, ignore_errors=True)
    return {"server_port": port, "client_port": port_of(c.client), "filename": name,
            "size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
            "server_status": status, "stored_sha256": stored_sha, "decode_as": {port: "filexfer"}}


def extract_upload(data: bytes) -> tuple[dict, bytes] | None:
    """(header, content) of the first upload in a client->server byte stream, or None."""
    if len(data) < 4:
        return None
    hlen = struct.unpack("!I", data[:4])[0]
    if not 1 <= hlen <= 65536 or len(data) < 4 + hlen:
        return None
    try:
        header = json.loads(data[4:4 + hlen])
        size = int(header["filesize"])
    except (ValueError, KeyError, TypeError):
        return None
    content = data[4 + hlen:4 + hlen + size]
    return header, content


def analyze(eng, ctx):
    conv = conv_by_client_port(eng, ctx["client_port"])
    if conv is None:
        return ["the connection was not captured"], {}, False
    got = extract_upload(stream_bytes(eng, conv, "c2s"))
    if got is None:
        return [f"conversation {conv.id}: no complete upload in the client->server stream"], {}, False
    header, content = got
    sha = hashlib.sha256(content).hexdigest()
    data_segs = [m for m in conv.messages if m.direction == "c2s"]
    equal = sha == ctx["sha256"] and len(content) == ctx["size"]
    found = [f"conversation {conv.id}: protocol {conv.protocol}, upload of "
             f"{header.get('filename')!r} ({header.get('filesize')} bytes announced)",
             f"client messages decoded: {len(data_segs)}; the upload spans packets "
             f"{_span(data_segs)}",
             f"extracted {len(content)} bytes from the capture, sha256 {sha[:16]}...",
             f"original file sha256 {ctx['sha256'][:16]}...: "
             + ("EQUAL, the file was recovered bit for bit" if equal else "DIFFERENT"),
             f"server answered: {json.dumps(ctx['server_status'])}"]
    facts = {"conversation": conv.id, "filename": header.get("filename"),
             "extracted_size": len(content), "extracted_sha256": sha,
             "original_sha256": ctx["sha256"], "equal": equal}
    return found, facts, equal


def _span(msgs) -> str:
    pkts = sorted({p for m in msgs for p in m.packets})
    return f"{pkts[0]}-{pkts[-1]} ({len(pkts)} packets)" if pkts else "-"
