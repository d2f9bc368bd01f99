"""Captures shared by the Wireshark interop tests (made once per session)."""
from __future__ import annotations

import glob
import os
import subprocess
import sys

import pytest

from tests.wireshark import crafted, traffic

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUNDLED = sorted(glob.glob(os.path.join(REPO, "captures", "**", "*.pcap"), recursive=True)
                 + glob.glob(os.path.join(REPO, "captures", "**", "*.pcapng"), recursive=True))


def bundled_decode_as(path: str) -> dict[int, str]:
    """The Decode As map the lab recorded beside a bundled capture (X.lab.json), if any."""
    import json

    lab = os.path.splitext(path)[0] + ".lab.json"
    try:
        with open(lab, encoding="utf-8") as f:
            raw = json.load(f).get("context", {}).get("decode_as", {}) or {}
        return {int(port): str(proto) for port, proto in raw.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def wirelab(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("wireshark")


@pytest.fixture(scope="session")
def lua_path(workdir):
    path = str(workdir / "wirelab.lua")
    out = wirelab("export-lua", "-o", path)
    assert out.returncode == 0, out.stderr
    return path


@pytest.fixture(scope="session")
def live_capture(workdir):
    """Real loopback traffic of all six protocols on free ports: (path, decode_as)."""
    path = str(workdir / "live.pcap")
    decode_as = traffic.record_session(path, traffic.default_sessions())
    return path, decode_as


@pytest.fixture(scope="session")
def variant_capture(workdir):
    """lenmsg:native, filexfer:native and auth:hmac-md5 over real loopback sockets."""
    path = str(workdir / "variants.pcap")
    decode_as = traffic.record_session(path, traffic.variant_sessions())
    return path, decode_as


@pytest.fixture(scope="session")
def crafted_captures(workdir):
    out = {}
    for name in ("default_port_protocols", "retransmission", "out_of_order", "fast_retransmission",
                 "ipv6_icmp_arp", "window_keepalive_wrap_reuse", "malformed"):
        path = str(workdir / f"{name}.pcap")
        getattr(crafted, name)(path)
        out[name] = path
    return out


@pytest.fixture(scope="session")
def lossy_capture(workdir):
    """Real kernel retransmissions: tests/wireshark/lossy_lo.py in a private net namespace."""
    import shutil

    if not (shutil.which("unshare") and shutil.which("tc") and shutil.which("ip")):
        pytest.skip("needs unshare, tc and ip (iproute2)")
    path = str(workdir / "lossy.pcap")
    out = subprocess.run(["unshare", "-n", sys.executable, "-m", "tests.wireshark.lossy_lo", path],
                         capture_output=True, text=True, timeout=60, cwd=REPO)
    if out.returncode != 0 and ("Operation not permitted" in out.stderr
                                or "qdisc kind is unknown" in out.stderr):
        pytest.skip(f"no private network namespace with tbf here: {out.stderr.strip()[-200:]}")
    assert out.returncode == 0, out.stderr[-2000:]
    return path, {int(out.stdout.split()[-1]): "lenmsg"}
