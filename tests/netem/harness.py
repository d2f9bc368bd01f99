"""Real kernel traffic under loss, reordering, duplication, jitter and a rate limit: the lab's
reference servers and clients between two private network namespaces joined by a veth pair
with `tc qdisc netem` on both ends, captured with tcpdump -U in the client's namespace.

    with NetnsPair(3) as pair:                       # namespaces wlA<pid>x3 / wlB<pid>x3
        pair.impair(PROFILES["loss3"])               # "netem" (or "emulated": no sch_netem)
        path = pair.capture("echo", "/tmp/x.pcap")   # server + client run inside the pair

Addresses 10.99.N.1/30 (client) and 10.99.N.2/30 (server) exist only inside the namespaces;
nothing outside them is touched.  Every process started here is stopped by its pid, and both
namespaces are deleted on exit, also when something failed.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEP_TIMEOUT = 10.0
CLIENT_TIMEOUT = 120.0



class Profile(NamedTuple):
    """One impairment, on the egress of both ends of the veth pair.

    `netem`: the `tc qdisc ... netem` arguments.  Kernels without sch_netem (some VM and
    container kernels) get the same kinds of impairment from htb + u32 + bfifo instead:
    1 in `drop` packets dropped and 1 in `slow` sent through a slow lane (delayed, so later
    packets overtake it), chosen by IP ID bits (a retransmission has a new ID); 1 in `dup`
    sent twice (a mirred copy over a second veth pair, captured on "any": SLL2); `rate` limits the main lane, whose
    queue holds `limit` bytes (tail drops)."""

    netem: list[str]
    drop: int = 0
    slow: int = 0
    dup: int = 0
    rate: str = "10gbit"
    limit: str = "1mb"


PROFILES: dict[str, Profile] = {
    "clean": Profile(["delay", "1ms"]),
    "loss1": Profile(["loss", "1%"], drop=64),
    "loss3": Profile(["loss", "3%", "delay", "2ms"], drop=32),
    "loss10": Profile(["loss", "10%"], drop=16),
    "jitter": Profile(["delay", "8ms", "4ms"], slow=8),                 # jitter reorders
    "reorder": Profile(["delay", "10ms", "reorder", "25%", "50%"], slow=4),
    "duplicate": Profile(["duplicate", "5%", "delay", "1ms"], dup=16),
    "rate": Profile(["rate", "20mbit", "limit", "10"], rate="20mbit", limit="15kb"),
    "mixed": Profile(["loss", "2%", "duplicate", "2%", "delay", "4ms", "2ms"], drop=64, slow=16,
                     dup=64),
    "lossy_rate": Profile(["loss", "1%", "rate", "50mbit", "delay", "3ms"], drop=64,
                          rate="50mbit", limit="100kb"),
}
SLOW_LANE = "4mbit"

# workload -> (server protocol, port, extra server args); the client side is tests.netem.peer
WORKLOADS: dict[str, tuple[str, int, list[str]]] = {
    "echo": ("lenmsg", 9001, []),              # pipelined lenmsg echo, many small messages
    "upload": ("filexfer", 9002, []),          # bulk client -> server
    "slow_reader": ("lenmsg", 9001, []),       # big echo read slowly: the window fills
    "chat": ("chat", 9000, []),                # unframed request/reply rounds
    "udp": ("udpecho", 9005, []),              # datagrams (lost ones stay lost)
}


def available() -> str | None:
    """Why the harness cannot run here (None: it can)."""
    if os.geteuid() != 0:
        return "needs root (ip netns)"
    for tool in ("ip", "tc", "tcpdump", "tshark"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    return None


def _run(*cmd: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip()}")


def _wait_for(proc: subprocess.Popen, stream, marker: bytes, what: str) -> bytes:
    """Read `stream` of `proc` until `marker` appears (the process is ready)."""
    deadline = time.monotonic() + STEP_TIMEOUT
    buf = b""
    while marker not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise RuntimeError(f"{what} did not start: {buf.decode(errors='replace').strip()}")
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            buf += chunk
    return buf


class NetnsPair:
    """Two namespaces joined by a veth pair; see the module docstring."""

    def __init__(self, index: int) -> None:
        tag = f"{os.getpid() % 100000}x{index}"
        self.ns = (f"wlA{tag}", f"wlB{tag}")
        self.dev = (f"wa{tag}", f"wb{tag}")
        self.dup_dev = (f"wc{tag}", f"wd{tag}")
        self.addr = (f"10.99.{index % 256}.1", f"10.99.{index % 256}.2")
        self.capture_on = (0, self.dev[0])          # (namespace, interface) tcpdump listens on
        self.procs: list[subprocess.Popen] = []
        self.tmp = tempfile.mkdtemp(prefix="wirelab-netem-")

    def __enter__(self) -> "NetnsPair":
        try:
            _run("ip", "netns", "add", self.ns[0])
            _run("ip", "netns", "add", self.ns[1])
            _run("ip", "link", "add", self.dev[0], "netns", self.ns[0], "type", "veth",
                 "peer", "name", self.dev[1], "netns", self.ns[1])
            for k in (0, 1):
                _run("ip", "-n", self.ns[k], "addr", "add", f"{self.addr[k]}/30", "dev",
                     self.dev[k])
                _run("ip", "-n", self.ns[k], "link", "set", self.dev[k], "up")
                _run("ip", "-n", self.ns[k], "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop what was started here (by pid), delete both namespaces and the temp dir."""
        for proc in self.procs:
            self._stop(proc)
        for ns in self.ns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=STEP_TIMEOUT)
        shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def _stop(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(STEP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STEP_TIMEOUT)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def _start(self, k: int, cmd: list[str], **kw) -> subprocess.Popen:
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns[k], *cmd], cwd=REPO,
                                stdin=subprocess.DEVNULL, **kw)
        self.procs.append(proc)
        return proc

    def impair(self, profile: Profile) -> str:
        """Apply `profile` to both ends: "netem", or "emulated" where the kernel has no netem."""
        tc = ["ip", "netns", "exec"]
        probe = subprocess.run([*tc, self.ns[0], "tc", "qdisc", "add", "dev", self.dev[0], "root",
                                "netem", *profile.netem], capture_output=True, text=True,
                               timeout=STEP_TIMEOUT)
        if probe.returncode == 0:
            _run(*tc, self.ns[1], "tc", "qdisc", "add", "dev", self.dev[1], "root", "netem",
                 *profile.netem)
            return "netem"
        if "unknown" not in probe.stderr:
            raise RuntimeError(f"tc netem {' '.join(profile.netem)}: {probe.stderr.strip()}")
        if profile.dup:
            self._second_link()
        for k in (0, 1):
            self._emulate(k, profile)
        self.capture_on = (1, "any") if profile.dup else self.capture_on
        return "emulated"

    def _second_link(self) -> None:
        """A second veth pair that carries the duplicates; its far end takes the MAC of the
        first so the receiving stack accepts the copies as its own."""
        for k in (0, 1):
            _run("ip", "netns", "exec", self.ns[k], "sysctl", "-q", "-w",
                 "net.ipv4.conf.all.rp_filter=0")
        _run("ip", "link", "add", self.dup_dev[0], "netns", self.ns[0], "type", "veth", "peer",
             "name", self.dup_dev[1], "netns", self.ns[1])
        for k in (0, 1):
            mac = subprocess.run(["ip", "-n", self.ns[k], "-br", "link", "show", self.dev[k]],
                                 capture_output=True, text=True,
                                 timeout=STEP_TIMEOUT).stdout.split()[2]
            _run("ip", "-n", self.ns[k], "link", "set", self.dup_dev[k], "address", mac, "up")

    def _emulate(self, k: int, profile: Profile) -> None:
        dev = self.dev[k]

        def tc(*args: str) -> None:
            _run("ip", "netns", "exec", self.ns[k], "tc", *args)

        def by_ip_id(one_in: int, value: int, *target: str) -> None:
            mask = one_in - 1
            tc("filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio",
               str(value), "u32", "match", "u16", hex(value & mask), hex(mask), "at", "4", *target)

        _run("ip", "-n", self.ns[k], "link", "set", dev, "gso_max_segs", "1")   # one skb a segment
        tc("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10",
           "r2q", "100000")
        for cls, rate, limit in (("10", profile.rate, profile.limit), ("20", "10gbit", "0"),
                                 ("30", SLOW_LANE, "2mb")):
            tc("class", "add", "dev", dev, "parent", "1:", "classid", f"1:{cls}", "htb",
               "rate", rate)
            tc("qdisc", "add", "dev", dev, "parent", f"1:{cls}", "handle", f"{cls}:", "bfifo",
               "limit", limit)
        if profile.drop:
            by_ip_id(profile.drop, 1, "flowid", "1:20")           # bfifo limit 0: dropped
        if profile.slow:
            by_ip_id(profile.slow, 2, "flowid", "1:30")
        if profile.dup:
            by_ip_id(profile.dup, 3, "action", "mirred", "egress", "mirror", "dev",
                     self.dup_dev[k])

    def capture(self, workload: str, out: str, scale: float = 1.0) -> str:
        """Run one workload between the namespaces while tcpdump records it into `out`."""
        protocol, port, extra = WORKLOADS[workload]
        k, iface = self.capture_on
        link = ["-y", "LINUX_SLL2"] if iface == "any" else []
        dump = self._start(k, ["tcpdump", "-i", iface, *link, "-U", "--immediate-mode", "-n", "-s",
                               "0", "-w", out],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_for(dump, dump.stderr, b"listening on", "tcpdump")
        args = ["serve", protocol, "--host", self.addr[1], "--port", str(port), "--quiet", *extra]
        if protocol == "filexfer":
            args += ["--upload-dir", self.tmp]
        server = self._start(1, [sys.executable, "-m", "analyzer", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        _wait_for(server, server.stdout, b"listening on", f"wirelab serve {protocol}")
        client = subprocess.run(
            ["ip", "netns", "exec", self.ns[0], sys.executable, "-m", "tests.netem.peer",
             workload, self.addr[1], str(port), str(scale)],
            cwd=REPO, capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
        if client.returncode != 0:
            raise RuntimeError(f"client {workload} failed: {client.stderr.strip()[-500:]}")
        time.sleep(0.3)                     # the last ACKs and FINs reach the capture
        self._stop(server)
        self._stop(dump)
        self.procs = [p for p in self.procs if p not in (server, dump)]
        return out


def one_capture(index: int, profile: str, workload: str, out: str,
                scale: float = 1.0) -> tuple[str, str]:
    """A fresh namespace pair with `profile`, one `workload` captured into `out`:
    (out, "netem" or "emulated")."""
    with NetnsPair(index) as pair:
        how = pair.impair(PROFILES[profile])
        return pair.capture(workload, out, scale), how


def matrix(repeat: int = 1) -> list[tuple[str, str]]:
    """Every (profile, workload), `repeat` times: the full run."""
    return [(p, w) for _ in range(repeat) for p in PROFILES for w in WORKLOADS]


def run_matrix(workdir: str, cases: list[tuple[str, str]], scale: float = 1.0,
               jobs: int = 3) -> list[tuple[str, str, str, str]]:
    """Capture every (profile, workload) of `cases` into `workdir`, `jobs` pairs at a time:
    [(profile, workload, path, "netem"|"emulated")] in the order of `cases`."""
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> tuple[str, str, str, str]:
        profile, workload = cases[i]
        path = os.path.join(workdir, f"{i:03d}-{profile}-{workload}.pcap")
        out, how = one_capture(i, profile, workload, path, scale)
        return profile, workload, out, how

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, range(len(cases))))
