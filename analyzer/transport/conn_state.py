"""Zeek's connection state (`conn_state`) and `history` letters, per conversation.

A port of the endpoint state machine of Zeek's TCPSessionAdapter (UpdateInactiveState,
UpdateSYN_SentState, UpdateEstablishedState, UpdateClosedState), its history rules
(update_history, CheckHistory: one letter per kind and direction, uppercase = originator;
ScaledHistoryEntry: retransmissions 'T' and zero windows 'W' repeat at 1, 10, 100, ...
occurrences) and base/protocols/conn/main.zeek's conn_state().  The originator is our
client (direction 0).  Not modelled: content gaps 'C', 'G', Zeek's inactivity timers.
"""
from __future__ import annotations

from analyzer.decode.decoded import ACK, FIN, RST, SYN

INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET = range(7)
M32 = 0xFFFFFFFF
_TOO_LARGE_SEQ_DELTA = 1048576

# history kinds (one letter each per direction, CheckHistory)
_H_SYN, _H_FIN, _H_RST, _H_FIN_RST, _H_DATA, _H_ACK, _H_MULTI = range(7)


def _delta(a: int, b: int) -> int:
    """seq_delta(): signed 32-bit a - b."""
    d = (a - b) & M32
    return d - (1 << 32) if d >= 0x80000000 else d


class Endpoint:
    __slots__ = ("is_orig", "state", "prev_state", "start_seq", "last_seq",
                 "hist_seen", "hist_last_syn", "hist_last_fin", "hist_last_rst",
                 "num_rxmit", "rxmit_thresh", "num_zero_win", "zero_win_thresh", "size")

    def __init__(self, is_orig: bool) -> None:
        self.is_orig = is_orig
        self.state = INACTIVE
        self.prev_state = INACTIVE
        self.start_seq = 0
        self.last_seq = 0
        self.hist_seen: set[int] = set()
        self.hist_last_syn = self.hist_last_fin = self.hist_last_rst = None
        self.num_rxmit = 0
        self.rxmit_thresh = 1
        self.num_zero_win = 0
        self.zero_win_thresh = 1
        self.size = 0                  # payload bytes sent (Zeek's endpoint size)

    def set_state(self, s: int) -> None:
        self.prev_state, self.state = self.state, s


class ZeekTcpState:
    """Endpoint states + history of one TCP conversation, fed packet by packet."""

    __slots__ = ("orig", "resp", "hist")

    def __init__(self, flipped: bool = False) -> None:
        self.orig = Endpoint(True)
        self.resp = Endpoint(False)
        self.hist: list[str] = ["^"] if flipped else []

    # -- history -----------------------------------------------------------------------------
    def _add(self, ep: Endpoint, code: str) -> None:
        self.hist.append(code if ep.is_orig else code.lower())

    def _check(self, ep: Endpoint, kind: int, code: str) -> bool:
        """CheckHistory(): add the letter the first time; True if already seen."""
        if kind in ep.hist_seen:
            return True
        ep.hist_seen.add(kind)
        self._add(ep, code)
        return False

    def _scaled(self, ep: Endpoint, code: str, which: str) -> None:
        """ScaledHistoryEntry(): a letter at the 1st, 10th, 100th ... occurrence."""
        if which == "rxmit":
            ep.num_rxmit += 1
            if ep.num_rxmit == ep.rxmit_thresh:
                self._add(ep, code)
                ep.rxmit_thresh *= 10
        else:
            ep.num_zero_win += 1
            if ep.num_zero_win == ep.zero_win_thresh:
                self._add(ep, code)
                ep.zero_win_thresh *= 10

    def _update_history(self, ep: Endpoint, flags: int, rel_seq: int, length: int) -> None:
        n = bool(flags & SYN) + bool(flags & FIN) + bool(flags & RST)
        if n > 1:
            if flags & FIN and flags & RST:
                self._check(ep, _H_FIN_RST, "I")
            else:
                self._check(ep, _H_MULTI, "Q")
        elif n == 1:
            if flags & SYN:
                code = "H" if flags & ACK else "S"
                if self._check(ep, _H_SYN, code) and rel_seq != ep.hist_last_syn:
                    self._add(ep, code)
                ep.hist_last_syn = rel_seq
            if flags & FIN:
                if self._check(ep, _H_FIN, "F") and rel_seq + length != ep.hist_last_fin:
                    self._add(ep, "F")
                ep.hist_last_fin = rel_seq + length
            if flags & RST:
                if self._check(ep, _H_RST, "R") and rel_seq != ep.hist_last_rst:
                    self._add(ep, "R")
                ep.hist_last_rst = rel_seq
        else:
            if length:
                self._check(ep, _H_DATA, "D")
            elif flags & ACK:
                self._check(ep, _H_ACK, "A")

    # -- one packet --------------------------------------------------------------------------
    def packet(self, is_orig: bool, seq: int, flags: int, length: int, window: int) -> None:
        ep = self.orig if is_orig else self.resp
        peer = self.resp if is_orig else self.orig
        if not flags & (SYN | FIN | RST) and ep.state != INACTIVE:
            # fast path: a data or ACK segment of an endpoint already seen; same effects as
            # the general path below (no state change is possible without SYN/FIN/RST)
            if length:
                if _H_DATA not in ep.hist_seen:
                    self._check(ep, _H_DATA, "D")
            elif flags & ACK and _H_ACK not in ep.hist_seen:
                self._check(ep, _H_ACK, "A")
            if window == 0 and peer.state != CLOSED and ep.state != RESET:
                self._scaled(ep, "W", "zero")
            last = (seq + length) & M32
            d = (last - ep.last_seq) & M32
            if ep.state == RESET:
                pass
            elif d and d < 0x80000000:
                ep.last_seq = last
                ep.size += length
            elif length > 0:
                self._scaled(ep, "T", "rxmit")
            return
        seg_len = length + bool(flags & SYN) + bool(flags & FIN)
        if flags & RST:
            seg_len -= length
        last = (seq + seg_len) & M32
        # init_endpoint()
        if ep.state == INACTIVE:
            if flags & SYN:
                ep.start_seq = seq
                ep.last_seq = last
            else:
                ep.start_seq = (seq - 1) & M32
                ep.last_seq = seq     # so the first packet is not a retransmission
        elif ep.state in (SYN_SENT, SYN_ACK_SENT, ESTABLISHED, PARTIAL) and flags & SYN \
                and seq != ep.start_seq:
            ep.start_seq = seq
            ep.last_seq = last
        rel_seq = _delta(seq, ep.start_seq)
        self._update_history(ep, flags, rel_seq, length)
        # update_window(): zero windows ('W')
        if (window == 0 and not flags & RST and peer.state != CLOSED and ep.state != RESET):
            self._scaled(ep, "W", "zero")
        # update_last_seq(): retransmissions ('T')
        delta_last = _delta(last, ep.last_seq)
        if flags & (SYN | RST) and abs(delta_last) > _TOO_LARGE_SEQ_DELTA:
            pass
        elif flags & FIN and ep.last_seq == ((ep.start_seq + 1) & M32):
            ep.last_seq = last
        elif ep.state == RESET:
            pass
        elif delta_last > 0:
            ep.last_seq = last
        elif length > 0:
            self._scaled(ep, "T", "rxmit")
        if length > 0 and not flags & RST and delta_last > 0:
            ep.size += length
        self._state_machine(ep, peer, is_orig, flags, length, delta_last)

    def _state_machine(self, ep: Endpoint, peer: Endpoint, is_orig: bool, flags: int,
                       length: int, delta_last: int) -> None:
        st = ep.state
        if st == INACTIVE:
            if flags & SYN:
                if is_orig:
                    ep.set_state(SYN_ACK_SENT if flags & ACK else SYN_SENT)
                else:
                    if peer.state == SYN_SENT:
                        peer.set_state(ESTABLISHED)
                    ep.set_state(ESTABLISHED)
            if flags & FIN:
                ep.set_state(CLOSED)
            if flags & RST:
                ep.set_state(RESET)
            if ep.state == INACTIVE:
                if not is_orig and length == 0 and self.orig.state == SYN_SENT:
                    pass
                elif flags & ACK and peer.state == ESTABLISHED:
                    ep.set_state(ESTABLISHED)
                else:
                    ep.set_state(PARTIAL)
        elif st in (SYN_SENT, SYN_ACK_SENT):
            if flags & FIN:
                ep.set_state(CLOSED)
            if flags & RST:
                ep.set_state(RESET)
        elif st in (ESTABLISHED, PARTIAL):
            if flags & SYN and st == PARTIAL and peer.state == INACTIVE and not flags & ACK:
                ep.set_state(SYN_SENT)
            if flags & FIN and not flags & RST:
                ep.set_state(CLOSED)
                if peer.state == RESET and peer.prev_state == CLOSED:
                    peer.set_state(CLOSED)
            if flags & RST:
                ep.set_state(RESET)
        elif st == CLOSED:
            if flags & RST and peer.state != CLOSED:
                ep.set_state(RESET)
        # RESET: nothing changes

    # -- results -----------------------------------------------------------------------------
    def history(self) -> str:
        return "".join(self.hist)

    def conn_state(self) -> str:
        """base/protocols/conn/main.zeek conn_state() for tcp."""
        os_, rs = self.orig.state, self.resp.state
        o_inactive = os_ in (INACTIVE, PARTIAL)
        r_inactive = rs in (INACTIVE, PARTIAL)
        if rs == RESET:
            if os_ in (SYN_SENT, SYN_ACK_SENT) or (
                    os_ == RESET and self.orig.size == 0 and self.resp.size == 0):
                return "REJ"
            return "RSTRH" if o_inactive else "RSTR"
        if os_ == RESET:
            return "RSTOS0" if r_inactive else "RSTO"
        if rs == CLOSED and os_ == CLOSED:
            return "SF"
        if os_ == CLOSED:
            return "SH" if r_inactive else "S2"
        if rs == CLOSED:
            return "SHR" if o_inactive else "S3"
        if os_ == SYN_SENT and rs == INACTIVE:
            return "S0"
        if os_ == ESTABLISHED and rs == ESTABLISHED:
            return "S1"
        return "OTH"


class ZeekUdpState:
    """UDP: an endpoint is active once it sent a datagram; history D/d (data), once each."""

    __slots__ = ("active", "hist")

    def __init__(self) -> None:
        self.active = [False, False]
        self.hist: list[str] = []

    def packet(self, is_orig: bool, length: int) -> None:
        i = 0 if is_orig else 1
        if not self.active[i]:
            self.active[i] = True
            self.hist.append("D" if is_orig else "d")

    def history(self) -> str:
        return "".join(self.hist)

    def conn_state(self) -> str:
        o, r = self.active
        if o:
            return "SF" if r else "S0"
        return "SHR" if r else "OTH"

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
