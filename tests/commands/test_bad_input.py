"""Bad input to the commands that read captures (summary, packets, verify, open, export-lua):
one clear error line on stderr, a non-zero exit, never a traceback."""
from __future__ import annotations


import json
import shutil
import subprocess
import sys

import pytest

from tests.commands.bad_input import ROOT, GOOD, TIMEOUT, FILE_CASES, assert_one_error_line, assert_usage_error, capture_rights, wirelab


@pytest.mark.parametrize("command", ["summary", "packets", "verify", "open"])
@pytest.mark.parametrize("case,words", FILE_CASES, ids=[c for c, _ in FILE_CASES])
def test_bad_capture_file(bad, command, case, words):
    if command == "verify" and shutil.which("tshark") is None:
        pytest.skip("tshark not installed")
    out = wirelab(command, str(bad[case]))
    assert_one_error_line(out, command, words, bad[case].name)


@pytest.mark.parametrize("command", ["open"])
def test_directory_instead_of_file(bad, command):
    out = wirelab(command, str(bad["dir"]))
    assert_one_error_line(out, command, "is a directory")


@pytest.mark.parametrize("command", ["summary", "packets", "verify"])
def test_empty_directory_of_captures(bad, command):
    """summary, packets and verify read a directory of captures (a ring buffer): an empty
    one is one clear line."""
    out = wirelab(command, str(bad["dir"]))
    assert_one_error_line(out, command, "holds no capture files")


@pytest.mark.parametrize("command", ["summary", "packets"])
@pytest.mark.parametrize("args,words", [
    ((), ("no capture file given",)),
    (("-r", str(ROOT / "captures" / "framed.pcap"), str(GOOD)), ("give the capture file once",)),
    (("-c", "-1", str(GOOD)), ("-c",)),
    (("--decode-as", "nonsense", str(GOOD)), ("bad decode-as", "PORT=PROTOCOL")),
    (("--decode-as", "9999=nope", str(GOOD)), ("unknown protocol 'nope'",)),
    (("--decode-as", "99999=chat", str(GOOD)), ("port must be a number",)),
    (("--decode-as", "0=chat", str(GOOD)), ("port must be a number",)),
    (("--decode-as", "9999=lenmsg:weird", str(GOOD)), ("no variant 'weird'",)),
], ids=["nofile", "twice", "c-1", "da-syntax", "da-proto", "da-port", "da-port0",
        "da-variant"])
def test_summary_packets_bad_options(command, args, words):
    assert_one_error_line(wirelab(command, *args), command, *words)


@pytest.mark.parametrize("command", ["summary", "packets"])
def test_non_numeric_count_is_a_usage_error(command):
    assert_usage_error(wirelab(command, "-c", "abc", str(GOOD)), "-c")


@pytest.mark.parametrize("command", ["packets", "open"])
@pytest.mark.parametrize("flt,words", [
    ("tcp.port ==", ("value expected",)),
    ("tcp.port == abc", ("is a number",)),
    ("((", ("expression expected",)),
    ("foo.bar == 1", ("unknown field 'foo.bar'",)),
    ('frame.info contains "x', ("unterminated string",)),
    ("ip.src == 999.1.1.1", ("not an IP address",)),
    ('frame.info matches "("', ("bad regular expression",)),
    ("tcp.flags.syn == 2", ("is a flag",)),
    ("(" * 100 + "tcp" + ")" * 100, ("nested too deeply",)),
    ("not " * 1000 + "tcp", ("too many",)),
    ("tcp or " * 700 + "tcp", ("too long",)),
    ("tcp.port == 99999999999999999999999", ("out of range", "tcp.port", "column 13")),
    ("udp.srcport > 65536", ("out of range", "udp.srcport")),
    ("tcp.dstport == -1", ("out of range",)),
], ids=["no-value", "not-number", "parens", "unknown-field", "unterminated", "bad-ip",
        "bad-regex", "flag-2", "deep", "nots", "long", "port-huge", "port-65536", "port-neg"])
def test_bad_display_filter(command, flt, words):
    out = wirelab(command, "-Y", flt, str(GOOD))
    assert_one_error_line(out, command, "bad display filter", *words)


def test_open_bad_decode_as():
    assert_one_error_line(wirelab("open", "--decode-as", "bad", str(GOOD)), "open",
                          "bad decode-as")




@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("args,words", [
    (("--tshark-option", "bad"), ("tshark failed",)),
    (("--decode-as", "bad"), ("bad decode-as",)),
    (("--decode-as", "9000=lenmsg:weird"), ("no variant 'weird'",)),
], ids=["tshark-option", "decode-as", "variant"])
def test_verify_bad_options(args, words):
    assert_one_error_line(wirelab("verify", *args, str(GOOD)), "verify", *words)


@pytest.mark.parametrize("key,args,words", [
    ("nodir", ("-o",), ("no such directory",)),
    ("dir", ("-o",), ("cannot write", "Is a directory")),
    (None, ("--port", "lenmsg=99999"), ("bad port 99999",)),
    (None, ("--port", "lenmsg=0"), ("bad port 0",)),
    (None, ("--port", "lenmsg=abc"), ("expected PROTO=PORT",)),
    (None, ("--port", "lenmsg"), ("expected PROTO=PORT",)),
    (None, ("--port", "nosuch=7001"), ("no Lua dissector for protocol 'nosuch'",)),
], ids=["o-nodir", "o-dir", "port-big", "port0", "port-abc", "port-noeq", "proto"])
def test_export_lua_bad_options(bad, key, args, words):
    if key:
        args = (*args, str(bad[key]))
    assert_one_error_line(wirelab("export-lua", *args), "export-lua", *words)


@pytest.mark.parametrize("json_flag", [False, True], ids=["text", "json"])
def test_packets_into_a_closed_pipe(tmp_path, json_flag):
    """`wirelab packets big.pcap | head -1`: quiet exit 0 when the reader goes away."""
    big = tmp_path / "big.pcap"
    gen = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_capture.py"),
                          "-n", "3000", "-o", str(big)], capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert gen.returncode == 0, gen.stderr
    cmd = [sys.executable, "-m", "analyzer", "packets", *(["--json"] if json_flag else []),
           str(big)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    try:
        first = p.stdout.readline()
        p.stdout.close()            # like `head -1`: far more output is still to come
        err = p.stderr.read()
        rc = p.wait(TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert first.strip(), "no first line"
    assert rc == 0 and err == b"", (rc, err[-1000:])


@pytest.mark.parametrize("content", [
    bytes((i * 89 + 7) % 256 for i in range(3000)),
    b'{"client":\n',
    b'[1, 2]\n"x"\n3\nnull\n',
    b'{"client": "127.0.0.1:1"}\n',
    b'{"client":"127.0.0.1:1","server":"127.0.0.1:2","side":"client","op":"send",'
    b'"dir":"c2s","offset":0,"length":1,"time":1}\xff\xfe\n',
], ids=["random", "bad-json", "not-objects", "missing-keys", "bad-utf8"])
def test_garbage_sidecar_is_skipped(tmp_path, content):
    """A broken FILE.appio.jsonl beside a good capture: bad lines are skipped, the capture
    is still analysed in full (same packets and conversations as without the sidecar)."""
    cap = tmp_path / "s.pcap"
    shutil.copy(ROOT / "captures" / "sticky-sender.pcap", cap)
    plain = wirelab("summary", "--json", "--no-sidecar", str(cap))
    assert plain.returncode == 0, plain.stderr
    (tmp_path / "s.pcap.appio.jsonl").write_bytes(content)
    out = wirelab("summary", "--json", str(cap))
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    a, b = json.loads(plain.stdout), json.loads(out.stdout)
    assert a["packets"] == b["packets"] > 0
    assert len(a["conversations"]) == len(b["conversations"]) > 0


@pytest.mark.skipif(shutil.which("capsh") is None or not capture_rights(),
                    reason="needs capsh and root to drop CAP_NET_RAW")
@pytest.mark.parametrize("args", [("capture", "--duration", "1"), ("live",),
                                  ("lab", "handshake")], ids=["capture", "live", "lab"])
def test_live_commands_without_capture_rights(args):
    """Without CAP_NET_RAW: exit 3 and one line that says what to do, no TUI, no traceback."""
    cmd = " ".join([sys.executable, "-m", "analyzer", *args])
    out = subprocess.run(["capsh", "--drop=cap_net_raw", "--", "-c", cmd], capture_output=True,
                         text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, cwd=ROOT)
    line = assert_one_error_line(out, args[0], "CAP_NET_RAW")
    assert out.returncode == 3, line
