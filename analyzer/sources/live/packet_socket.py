"""The capture socket: an AF_PACKET socket with a BPF filter that Scapy compiles (libpcap).

Also what both readers (the forked child and the in-process thread) do with one recvmsg()
result (`frame_of`; `cooked_frame_of` for `any`), and the kernel's drop counter
(`kernel_drops`).

`any` captures on every interface as tcpdump does: a SOCK_DGRAM packet socket (the kernel
strips each interface's own link header) and a Linux cooked v2 (SLL2) header built per packet
from the socket address (protocol, interface index, hardware type, packet type, address).  Its
BPF filter is compiled for raw IP, since that is what a SOCK_DGRAM socket's filter sees.
As libpcap does, the outgoing copy of a packet on a loopback interface is dropped (on `lo`
the kernel shows each packet going out and coming in); outgoing packets elsewhere are kept.
The `any` socket is not bound (binding to "all interfaces" is not expressible in Python's
address tuple): it is opened for every protocol, its filter attached, and what it received
before the filter was in place is drained away.
"""
from __future__ import annotations

import re
import socket
import struct
import time

from analyzer.errors import PermissionNeeded, WirelabError

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
SO_ATTACH_FILTER = 26
ANY = "any"
LINKTYPE_LINUX_SLL2 = 276
DLT_RAW = 12                               # libpcap's raw IP, what the `any` socket's filter sees
_SLL2 = struct.Struct("!HHIHBB8s")         # protocol, reserved, ifindex, hatype, pkttype, halen, addr
ARPHRD_TO_LINKTYPE = {1: 1, 772: 1, 65534: 101, 776: 101}  # ether, lo (ether), tun, sit: raw IP
RECV_SIZE = 65536 + 256                    # one recvmsg(): the largest loopback frame fits
ANC_SIZE = socket.CMSG_SPACE(16)           # room for the SO_TIMESTAMPNS timespec
_TS = struct.Struct("qq")
_STATS = struct.Struct("II")
NO_RIGHTS_HINT = ("live capture needs root or the CAP_NET_RAW capability "
                  "(try: sudo wirelab ...); without it, replay a bundled capture: "
                  "wirelab summary captures/handshake.pcap (or: wirelab demo)")


def frame_of(data: bytes, anc, addr, snaplen: int):
    """(ts, data cut to snaplen, origlen) of one recvmsg() result, or None for the outgoing
    twin of a loopback packet (on lo each packet is seen going out and coming in: keep the
    incoming one; on other interfaces outgoing packets are real and kept)."""
    if addr[2] == PACKET_OUTGOING and (addr[0] == "lo" or addr[3] == 772):
        return None
    ts = _timestamp(anc)
    origlen = len(data)
    return ts, (data[:snaplen] if origlen > snaplen else data), origlen


def _timestamp(anc) -> float:
    """The kernel's receive time from the SO_TIMESTAMPNS message (now, if it is missing)."""
    for level, typ, cdata in anc:
        if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(cdata) >= 16:
            sec, nsec = _TS.unpack(cdata[:16])
            return sec + nsec * 1e-9
    return time.time()


def cooked_frame_of(data: bytes, anc, addr, snaplen: int):
    """(ts, SLL2 header + data cut to snaplen, origlen) of one recvmsg() result of the `any`
    socket, or None for the outgoing copy of a loopback packet (as libpcap drops it)."""
    ifname, proto, pkttype, hatype, hwaddr = addr[:5]
    if pkttype == PACKET_OUTGOING and hatype == 772:
        return None
    head = _SLL2.pack(proto, 0, _ifindex(ifname), hatype, pkttype, min(len(hwaddr), 8),
                      hwaddr[:8])
    ts = _timestamp(anc)
    frame = head + data
    origlen = len(frame)
    return ts, (frame[:snaplen] if origlen > snaplen else frame), origlen


_IFINDEX: dict[str, int] = {}


def _ifindex(name: str) -> int:
    index = _IFINDEX.get(name)
    if index is None:
        try:
            index = socket.if_nametoindex(name)
        except OSError:
            index = 0
        _IFINDEX[name] = index
    return index


def frame_reader(iface: str):
    """The function that turns one recvmsg() result into a frame for this interface."""
    return cooked_frame_of if iface == ANY else frame_of


def list_interfaces() -> list[tuple[str, str]]:
    """(name, description) of the interfaces a capture can use, in dumpcap -D's order: the
    ones that are up first (other interfaces, then `any`, then loopback), then those down."""
    rows = []
    for index, name in socket.if_nameindex():
        flags = _sys_int(name, "flags")
        loopback = _sys_int(name, "type") == 772
        rows.append(((not flags & 1, loopback, index), name, "Loopback" if loopback else ""))
    rows.append(((False, False, 1 << 31), ANY, ""))
    return [(name, description) for _key, name, description in sorted(rows)]


def _sys_int(iface: str, attribute: str) -> int:
    """An integer from /sys/class/net/IFACE/ATTRIBUTE (hex or decimal); 0 if unreadable."""
    try:
        with open(f"/sys/class/net/{iface}/{attribute}") as f:
            return int(f.read().strip(), 0)
    except (OSError, ValueError):
        return 0


def kernel_drops(sock: socket.socket) -> int:
    """Packets the kernel dropped for `sock` since the last call (it resets the counters on
    each read).  OSError when the socket cannot say."""
    _pkts, drops = _STATS.unpack(sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    return drops


def interface_linktype(iface: str) -> int:
    """pcap LINKTYPE of an interface from /sys (1 = Ethernet, which `lo` also uses; `any`
    is Linux cooked v2)."""
    if iface == ANY:
        return LINKTYPE_LINUX_SLL2
    try:
        with open(f"/sys/class/net/{iface}/type") as f:
            arphrd = int(f.read().strip())
    except (OSError, ValueError):
        raise WirelabError(f"no such interface: {iface!r}") from None
    if arphrd not in ARPHRD_TO_LINKTYPE:
        raise WirelabError(f"interface {iface!r} has unsupported hardware type {arphrd}")
    return ARPHRD_TO_LINKTYPE[arphrd]


def attach_bpf(sock: socket.socket, expr: str, linktype: int, snaplen: int) -> None:
    """Compile `expr` with libpcap (through Scapy) and attach it to `sock`.

    libpcap's compiled filter accepts a packet by returning a snap length of 65535, which
    would cut loopback's 65550-byte frames: the accept value is raised to `snaplen`."""
    from scapy.arch.common import compile_filter, free_filter
    from scapy.libs.structures import sock_fprog
    bp = compile_filter(expr, linktype=linktype)
    try:
        for i in range(bp.bf_len):
            ins = bp.bf_insns[i]
            if ins.code == 0x06 and ins.k:          # BPF_RET|BPF_K, accept
                ins.k = max(ins.k, snaplen)
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, sock_fprog(bp.bf_len, bp.bf_insns))
    finally:
        free_filter(bp)


def _attach_filter(sock: socket.socket, bpf: str | None, expr: str, linktype: int,
                   snaplen: int) -> None:
    """attach_bpf, its failures as one-line WirelabErrors naming the user's filter `bpf`."""
    try:
        attach_bpf(sock, expr, linktype, snaplen)
    except ImportError as exc:  # pragma: no cover - scapy without libpcap
        raise WirelabError(f"cannot compile BPF filters: {exc}") from None
    except WirelabError:
        raise
    except Exception as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = re.search(r"\(([^()]*)\)\s*$", msg)   # libpcap's reason, without
        msg = reason.group(1) if reason else msg     # our added "and inbound"
        raise WirelabError(f"bad capture filter {bpf!r}: {msg}") from None


def open_capture_socket(iface: str, bpf: str | None, rcvbuf: int = 64 << 20,
                        linktype: int = 1, snaplen: int = 262144) -> socket.socket:
    """AF_PACKET socket with the filter attached *before* it is bound (no unfiltered leak).

    On lo the kernel hands every packet over twice (going out, coming in): the outgoing twin
    is dropped in the kernel by the filter ("inbound"), so it costs no buffer space."""
    try:
        if iface == ANY:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        else:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except PermissionError:
        raise PermissionNeeded(NO_RIGHTS_HINT) from None
    expr = bpf or ""
    if iface == "lo":
        expr = f"({expr}) and inbound" if expr else "inbound"
    try:
        if expr:
            _attach_filter(sock, bpf, expr, DLT_RAW if iface == ANY else linktype, snaplen)
        for opt in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, rcvbuf)
                break
            except OSError:
                continue
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        if iface == ANY:
            _drain(sock)
        else:
            sock.bind((iface, ETH_P_ALL))
    except PermissionError:
        sock.close()
        raise PermissionNeeded(NO_RIGHTS_HINT) from None
    except OSError as exc:
        sock.close()
        raise WirelabError(f"cannot capture on {iface!r}: {exc.strerror or exc}") from None
    except BaseException:
        sock.close()
        raise
    return sock


def _drain(sock: socket.socket) -> None:
    """Discard what an unbound socket received before its filter was attached."""
    sock.setblocking(False)
    try:
        while True:
            sock.recv(1)
    except BlockingIOError:
        pass
    finally:
        sock.setblocking(True)


def capture_rights() -> bool:
    """True when this process may open a raw AF_PACKET socket."""
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except (PermissionError, OSError):
        return False
    s.close()
    return True
