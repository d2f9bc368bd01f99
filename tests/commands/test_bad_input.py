"""Bad input to every `wirelab` subcommand: one clear error line on stderr, a non-zero exit,
never a traceback.  Each case runs the real CLI (`python -m analyzer`) in a subprocess with
stdin from /dev/null, so a regression that starts a server or the TUI instead of failing
shows up as a timeout, not a hang.

Only cases that behave correctly today are here; the QA report lists the failing ones.
"""
from __future__ import annotations

import bz2
import json
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "captures" / "handshake.pcap"
TIMEOUT = 60


def wirelab(*args: str, cwd: Path | None = None, env: dict | None = None):
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                          env=env)


def assert_one_error_line(out, command: str, *words: str) -> str:
    """Exit status non-zero, exactly one stderr line `wirelab COMMAND: error: ...` holding
    every word of `words`, no traceback."""
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode != 0, (out.stdout[-500:], out.stderr)
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    line = lines[0]
    assert line.startswith(f"wirelab {command}: error: "), line
    for w in words:
        assert w in line, line
    return line


def assert_usage_error(out, *words: str) -> None:
    """argparse rejects the option: exit 2, usage then one `error:` line, no traceback."""
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 2, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert "error:" in last, out.stderr
    for w in words:
        assert w in last, last


def capture_rights() -> bool:
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except (PermissionError, AttributeError, OSError):
        return False
    s.close()
    return True


needs_capture = pytest.mark.skipif(not capture_rights(), reason="needs root/CAP_NET_RAW")


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Path]:
    """A folder of broken capture files, each named for what is wrong with it."""
    d = tmp_path_factory.mktemp("bad")
    good = GOOD.read_bytes()
    files = {
        "empty": b"",
        "random": bytes((i * 197 + 13) % 251 for i in range(4000)),   # not a known magic
        "trunchdr": good[:10],
        "bz2": bz2.compress(good),
    }
    version = bytearray(good)
    struct.pack_into("<H", version, 4, 9)
    files["version"] = bytes(version)
    shb = bytearray(b"\x0a\x0d\x0d\x0a" + struct.pack("<I", 28) + struct.pack("<I", 0xDEADBEEF)
                    + bytes(16) + struct.pack("<I", 28))
    files["badbom"] = bytes(shb)
    paths = {}
    for name, data in files.items():
        p = d / f"{name}.pcap"
        p.write_bytes(data)
        paths[name] = p
    (d / "adir").mkdir()
    paths["dir"] = d / "adir"
    paths["missing"] = d / "missing.pcap"
    paths["nodir"] = d / "no-such-dir" / "out.pcap"
    return paths


FILE_CASES = [
    ("missing", "no such file"),
    ("empty", "empty file"),
    ("random", "unknown file format"),
    ("trunchdr", "truncated pcap global header"),
    ("version", "unsupported pcap version"),
    ("badbom", "bad pcapng section header"),
    ("bz2", "bzip2-compressed"),
]


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


@needs_capture
@pytest.mark.parametrize("args,words", [
    (("-i", "nosuchif0", "--duration", "1"), ("no such interface",)),
    (("-f", "tcp port", "--duration", "1"), ("bad capture filter",)),
    (("-c", "0", "--duration", "1"), ("-c/--count",)),
    (("-c", "-1", "--duration", "1"), ("-c/--count",)),
    (("--duration", "0"), ("--duration",)),
    (("--duration", "-1"), ("--duration",)),
    (("--duration", "nan"), ("--duration",)),
    (("--duration", "1e999"), ("--duration",)),
    (("--duration", "inf"), ("--duration",)),
], ids=["iface", "bpf", "c0", "c-1", "dur0", "dur-1", "dur-nan", "dur-huge", "dur-inf"])
def test_capture_bad_options(args, words):
    assert_one_error_line(wirelab("capture", *args), "capture", *words)


@needs_capture
def test_capture_unwritable_output(bad):
    for target, words in ((bad["nodir"], "No such file or directory"),
                          (bad["dir"], "Is a directory")):
        out = wirelab("capture", "-w", str(target), "--duration", "1", "-f", "tcp port 1")
        assert_one_error_line(out, "capture", "cannot write", words)
        assert not bad["nodir"].parent.exists()


@needs_capture
def test_capture_to_a_full_device_fails_at_start(tmp_path):
    full = tmp_path / "full"
    try:
        os.mknod(full, 0o600 | stat.S_IFCHR, os.makedev(1, 7))   # a private /dev/full
    except PermissionError:
        pytest.skip("mknod needs root")
    out = wirelab("capture", "-w", str(full), "--duration", "1", "-f", "tcp port 1")
    assert_one_error_line(out, "capture", "cannot write", "No space left on device")
    assert stat.S_ISCHR(os.lstat(full).st_mode)


@needs_capture
def test_capture_write_failing_mid_capture_is_an_error(tmp_path):
    """The capture child cannot write the pcap (file size limit): the parent reports it."""
    import resource

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    target = tmp_path / "small.pcap"

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))

    proc = subprocess.Popen([sys.executable, "-m", "analyzer", "capture", "-w", str(target),
                             "-f", f"tcp port {port}", "--duration", "4"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=limit)
    try:
        first = proc.stderr.readline()
        assert first.startswith("capturing on"), first
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port)) as c:
                c.sendall(b"x" * 1000)
                srv.accept()[0].close()
        _out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
        proc.wait()
        srv.close()
    assert "Traceback" not in err, err
    assert proc.returncode != 0, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("wirelab capture: error: capture failed: cannot write"), lines
    assert "File too large" in lines[0], lines


def test_capture_non_numeric_duration():
    assert_usage_error(wirelab("capture", "--duration", "abc"), "--duration")


@needs_capture
@pytest.mark.parametrize("key,args,words", [
    (None, ("-i", "nosuchif0"), ("no such interface",)),
    (None, ("-f", "tcp port"), ("bad capture filter",)),
    ("nodir", ("-w",), ("cannot write",)),
    ("dir", ("-w",), ("cannot write", "Is a directory")),
    (None, ("-Y", "(("), ("bad display filter",)),
    (None, ("--decode-as", "bad"), ("bad decode-as",)),
], ids=["iface", "bpf", "w-nodir", "w-dir", "filter", "decode-as"])
def test_live_bad_options(bad, key, args, words):
    if key:
        args = (*args, str(bad[key]))
    assert_one_error_line(wirelab("live", *args), "live", *words)


@pytest.fixture
def busy_ports():
    """A listening TCP port and a bound UDP port, held for the test."""
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    t.listen()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    yield t.getsockname()[1], u.getsockname()[1]
    t.close()
    u.close()


def test_serve_port_in_use(busy_ports):
    tcp, udp = busy_ports
    for proto, port in (("chat", tcp), ("udpecho", udp)):
        out = wirelab("serve", proto, "--port", str(port))
        assert_one_error_line(out, "serve", "cannot listen", str(port), "in use")


@pytest.mark.parametrize("args,words", [
    (("chat", "--port", "99999"), ("bad port 99999",)),
    (("chat", "--port", "-1"), ("bad port -1",)),
    (("chat", "--host", "999.1.1.1", "--port", "0"), ("cannot listen on 999.1.1.1",)),
    (("lenmsg", "--variant", "weird", "--port", "0"), ("unknown variant 'weird'",)),
    (("auth", "--variant", "weird", "--port", "0"), ("unknown auth variant 'weird'",)),
    (("chat", "--variant", "native", "--port", "0"), ("chat has no variants",)),
    (("chat", "--idle-timeout", "0", "--port", "0"), ("--idle-timeout",)),
    (("chat", "--idle-timeout", "-1", "--port", "0"), ("--idle-timeout",)),
    (("chat", "--idle-timeout", "nan", "--port", "0"), ("--idle-timeout",)),
    (("chat", "--max-threads", "0", "--port", "0"), ("--max-threads",)),
    (("chat", "--recv-size", "0", "--port", "0"), ("--recv-size",)),
], ids=["port-big", "port-neg", "host", "lenmsg-variant", "auth-variant", "chat-variant",
        "idle0", "idle-neg", "idle-nan", "threads0", "recv0"])
def test_serve_bad_options(args, words):
    env = {**os.environ, "WIRELAB_SECRET": "qa-secret"}   # auth checks its variant too
    assert_one_error_line(wirelab("serve", *args, env=env), "serve", *words)


def test_serve_bad_secret_and_upload_dir(bad):
    env = {k: v for k, v in os.environ.items() if k != "WIRELAB_SECRET"}
    for path, words in ((bad["missing"], "cannot read secret file"),
                        (bad["dir"], "cannot read secret file"),
                        (bad["empty"], "is empty")):
        out = wirelab("serve", "auth", "--port", "0", "--secret-file", str(path), env=env)
        assert_one_error_line(out, "serve", words)
    out = wirelab("serve", "filexfer", "--port", "0", "--upload-dir", str(GOOD))
    assert_one_error_line(out, "serve", "cannot use upload directory")


def test_serve_usage_errors():
    assert_usage_error(wirelab("serve", "chat", "--port", "abc"), "--port")
    assert_usage_error(wirelab("serve", "nope"), "invalid choice")


@pytest.fixture
def refused_port():
    """A TCP port bound but not listening: a connect() to it is refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    yield s.getsockname()[1]
    s.close()


def test_client_errors(bad, refused_port):
    env = {k: v for k, v in os.environ.items() if k != "WIRELAB_SECRET"}
    port = str(refused_port)
    cases = [
        (("chat", "--port", port, "hi"), ("connection refused", port)),
        (("filexfer", "--port", port, str(bad["missing"])), ("no such file",)),
        (("auth", "--port", port, "hi"), ("needs a secret",)),
        (("auth", "--secret-file", str(bad["missing"]), "--port", port, "hi"),
         ("cannot read secret file",)),
    ]
    for args, words in cases:
        assert_one_error_line(wirelab("client", *args, env=env), "client", *words)


@pytest.mark.parametrize("args,words", [
    (("chat", "--port", "99999", "hi"), ("bad port 99999",)),
    (("chat", "--port", "-1", "hi"), ("bad port -1",)),
    (("chat", "--appio", "{nodir}", "hi"), ("cannot write sidecar", "No such file or directory")),
    (("chat", "--appio", "{dir}", "hi"), ("cannot write sidecar", "is a directory")),
    (("lenmsg", "--variant", "weird", "hi"), ("unknown variant 'weird'",)),
    (("chat", "--variant", "native", "hi"), ("chat has no variants",)),
    (("bigreply", ""), ("bad report name",)),
    (("bigreply", "a b"), ("bad report name",)),
    (("chat", "--timeout", "0", "hi"), ("--timeout",)),
    (("chat", "--timeout", "-1", "hi"), ("--timeout",)),
    (("chat", "--timeout", "nan", "hi"), ("--timeout",)),
    (("filexfer", "{dir}"), ("is a directory",)),
    (("filexfer", "--get", "a", "-o", "{nodir}"), ("cannot write", "no such directory")),
    (("filexfer", "--get", "a", "-o", "{dir}"), ("cannot write", "is a directory")),
], ids=["port-big", "port-neg", "appio-nodir", "appio-dir", "lenmsg-variant", "chat-variant",
        "bigreply-empty", "bigreply-space", "timeout0", "timeout-neg", "timeout-nan",
        "upload-dir", "get-nodir", "get-dir"])
def test_client_bad_options_fail_before_connecting(bad, args, words):
    """Checked before any connection: a listening server would not change the answer."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    try:
        port = str(srv.getsockname()[1])
        args = tuple(a.format(nodir=bad["nodir"], dir=bad["dir"]) for a in args)
        if "--port" not in args:
            args = (*args, "--port", port)
        assert_one_error_line(wirelab("client", *args), "client", *words)
        srv.setblocking(False)
        with pytest.raises(BlockingIOError):
            srv.accept()          # nobody connected
    finally:
        srv.close()
    assert not bad["nodir"].parent.exists()


@pytest.mark.parametrize("args,words", [
    (("--appio", "{nodir}"), ("cannot write sidecar", "No such file or directory")),
    (("--appio", "{dir}"), ("cannot write sidecar", "is a directory")),
    (("--first-read-delay", "-1"), ("--first-read-delay",)),
    (("--first-read-delay", "nan"), ("--first-read-delay",)),
], ids=["appio-nodir", "appio-dir", "delay-neg", "delay-nan"])
def test_serve_more_bad_options(bad, args, words):
    args = tuple(a.format(nodir=bad["nodir"], dir=bad["dir"]) for a in args)
    assert_one_error_line(wirelab("serve", "chat", "--port", "0", *args), "serve", *words)


@pytest.mark.parametrize("args,words", [
    (("nosuch",), ("unknown scenario 'nosuch'",)),
    ((), ("name a scenario",)),
    (("handshake", "--variant", "nosuch"), ("--variant",)),
    (("concurrent", "--clients", "0"), ("--clients",)),
    (("concurrent", "--clients", "-1"), ("--clients",)),
    (("concurrent", "--clients", "100000"), ("--clients",)),
], ids=["unknown", "none", "variant", "clients0", "clients-neg", "clients-big"])
def test_lab_bad_options(args, words):
    assert_one_error_line(wirelab("lab", *args), "lab", *words)


def test_lab_unwritable_output(bad):
    out = wirelab("lab", "handshake", "-w", str(bad["nodir"]))
    assert_one_error_line(out, "lab", "cannot write")
    assert not bad["nodir"].parent.exists()


def _make_non_regular(tmp_path: Path, kind: str) -> Path:
    """A non-regular file of our own under tmp_path (never anything in /dev)."""
    p = tmp_path / f"out-{kind}.pcap"
    if kind == "dir":
        p.mkdir()
    elif kind == "fifo":
        os.mkfifo(p)
    elif kind == "chardev":
        try:
            os.mknod(p, 0o600 | stat.S_IFCHR, os.makedev(1, 3))   # a private null device
        except PermissionError:
            pytest.skip("mknod needs root")
    return p


@pytest.mark.parametrize("kind", ["dir", "fifo", "chardev"])
def test_lab_output_not_a_regular_file_is_left_alone(tmp_path, kind):
    target = _make_non_regular(tmp_path, kind)
    before = os.lstat(target)
    out = wirelab("lab", "handshake", "-w", str(target))
    assert_one_error_line(out, "lab", "cannot write", "not a regular file")
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert after.st_ino == before.st_ino and after.st_rdev == before.st_rdev


def test_lab_sidecar_not_a_regular_file_keeps_the_old_capture(tmp_path):
    pcap = tmp_path / "x.pcap"
    pcap.write_bytes(b"old")
    (tmp_path / "x.pcap.appio.jsonl").mkdir()
    out = wirelab("lab", "handshake", "-w", str(pcap))
    assert_one_error_line(out, "lab", "cannot write", "appio.jsonl", "not a regular file")
    assert pcap.read_bytes() == b"old"


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
