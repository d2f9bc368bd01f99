"""Which codec cuts a conversation's messages: `--decode-as` first (a protocol, a framing
of the dissectors.framed grammar, or `infer`), then the protocols' default ports, then a
probe of the first bytes checked against the bytes that follow (a probe the bytes contradict
is rejected), then inference of the framing (analyzer.engine.framing); and, for unframed
protocols, the exact message boundaries a sidecar (analyzer.sources.sidecar) recorded for
that connection.  Why each conversation got its codec is kept (`choice_of`) for the views."""
from __future__ import annotations

from dissectors import registry
from dissectors.base import CLIENT, SERVER, ProtocolError
from dissectors.framed import Framing, is_stated, parse_framing, stated_options

from analyzer.engine.framing import THRESHOLD, Sample, infer_pair
from analyzer.engine.framing.infer import DirectionResult, check
from analyzer.engine.framing.known import KnownFramingCheck

FRAMED = registry.FRAMED
INFER_LIMIT = 16 * 1024     # bytes per direction inference waits for (or the stream's end)
ONE_WAY_FACTOR = 4          # ... or 4 times that in all while one direction is short
EARLY_PIECES = 16           # from this many pieces on (16, 32, 64..), decide when already sure


def parse_decode_as(decode_as: dict) -> dict[int, tuple[str, dict]]:
    """{port: "proto[:variant]", "infer", (proto, options), or a stated framing:
    "framed:GRAMMAR", "GRAMMAR", "framed:c2s:GRAMMAR,s2c:GRAMMAR"} -> {port: (proto, options)}
    (ValueError for a bad stated framing)."""
    out = {}
    for port, text in decode_as.items():
        if isinstance(text, tuple):
            out[int(port)] = text
            continue
        name, _, variant = str(text).partition(":")
        name = name.strip().lower()
        if is_stated(text):
            out[int(port)] = (FRAMED.name, stated_options(text))
        else:
            out[int(port)] = (name, {"variant": variant.strip().lower()} if variant else {})
    return out


def samples(pending: list, limit: int, totals: list[int], complete: list[bool]) -> list[Sample]:
    """The Sample of each direction from a conversation's buffered stream pieces
    ((direction, offset, packet, start, data); start < 0: a gap of `data` bytes): the bytes
    up to `limit` or the first gap, and where the sender's segments ended."""
    parts: list[list[bytes]] = [[], []]
    pushes: list[list[int]] = [[], []]
    have = [0, 0]
    stopped = [False, False]
    for direction, off, _packet, start, data in pending:
        if stopped[direction] or start < 0 or off != have[direction]:
            stopped[direction] = True
            continue
        room = limit - have[direction]
        piece = data[:room]
        parts[direction].append(piece)
        have[direction] += len(piece)
        pushes[direction].append(have[direction])
        if have[direction] >= limit:
            stopped[direction] = True
    out = []
    for d in (0, 1):
        whole = not stopped[d] and have[d] == totals[d]
        out.append(Sample(b"".join(parts[d]), pushes[d], totals[d] if whole else have[d],
                          complete[d] and whole))
    return out


def verify(spec, options: dict, direction_bytes: list[bytes],
           first_direction: int = 0) -> tuple[str | None, int]:
    """Run a probed codec over the buffered bytes: (the error they contradict it with or None,
    the fewest events it decoded - whole messages, or parts such as a parsed header - in a
    direction that has bytes).  `first_direction`: who sent the conversation's first bytes
    (0 client)."""
    if spec.server_first and first_direction == 0:
        return f"{spec.name}: the client spoke first", 0
    fewest = None
    for direction, data in enumerate(direction_bytes):
        if not data:
            continue
        codec = codec_factory(spec, options, direction)()
        try:
            n = len(codec.receive_data(bytes(data)))
        except ProtocolError as exc:
            return f"{spec.name}: {exc}", 0
        fewest = n if fewest is None else min(fewest, n)
    return None, fewest or 0


def index_sidecar(records) -> dict:
    """(transport, client, server) -> list of sessions, each {dir: [(offset, length)]}: the
    sender's send() calls, one session per connection (a 4-tuple may be reused)."""
    if not records:
        return {}
    out: dict = {}
    current: dict = {}
    for r in records:
        if r.op != "send":
            continue
        key = (r.transport, r.client, r.server)
        sess = current.get(key)
        if sess is None or (r.offset == 0 and sess["max"].get(r.dir, -1) >= 0
                            and sess["max"].get(r.dir, 0) > 0):
            sess = {"c2s": [], "s2c": [], "max": {}}
            current[key] = sess
            out.setdefault(key, []).append(sess)
        sess[r.dir].append((r.offset, r.length))
        sess["max"][r.dir] = max(sess["max"].get(r.dir, 0), r.offset + r.length)
    return out


def codec_factory(spec, options: dict, direction: int, hint_port: int | None = None):
    """A function making a fresh codec for one direction (c2s bytes are what a server reads);
    `hint_port`: the port a codec's length errors name in their --decode-as hint."""
    role = SERVER if direction == 0 else CLIENT
    if hint_port is not None and spec.hint_port:
        options = {**options, "hint_port": hint_port}

    def factory():
        return spec.connection(role, **options)
    return factory


class ChoiceTable:
    """Why each conversation got its codec (ProtocolChooser.choices), by (transport, id) as a
    dict would hold it, kept in one list per transport indexed by id (flows number each
    transport's conversations from 0): no key tuple kept per conversation, and the summary,
    which asks in id order, reads the list in order."""

    __slots__ = ("_tcp", "_udp")

    def __init__(self) -> None:
        self._tcp: list = []
        self._udp: list = []

    def _items(self, transport: str) -> list:
        if transport == "tcp":
            return self._tcp
        if transport == "udp":
            return self._udp
        raise KeyError(transport)

    def of(self, transport: str, cid: int):
        """The choice of conversation (transport, cid), or None."""
        items = self._tcp if transport == "tcp" else self._udp if transport == "udp" else ()
        return items[cid] if 0 <= cid < len(items) else None

    def get(self, key: tuple[str, int], default=None):
        found = self.of(key[0], key[1])
        return default if found is None else found

    def __getitem__(self, key: tuple[str, int]) -> dict:
        found = self.of(key[0], key[1])
        if found is None:
            raise KeyError(key)
        return found

    def __setitem__(self, key: tuple[str, int], value: dict) -> None:
        transport, cid = key
        items = self._items(transport)
        if cid < 0:
            raise KeyError(key)
        if cid >= len(items):
            items.extend([None] * (cid + 1 - len(items)))
        items[cid] = value

    def setdefault(self, key: tuple[str, int], value: dict):
        found = self.of(key[0], key[1])
        if found is None:
            self[key] = value
            return value
        return found


class ProtocolChooser:
    """The engine's choice of codec per conversation (see the module docstring)."""

    def __init__(self, decode_as: dict | None, sidecar_records) -> None:
        self.decode_as = parse_decode_as(decode_as or {})
        self.sidecar = index_sidecar(sidecar_records)
        self._sessions_used: dict[int, int] = {}
        self.choices = ChoiceTable()                        # (transport, id) -> why
        self._same_choice: dict[tuple, dict] = {}           # choices with text values only
        self._by_choice: dict[str, dict] = {}               # by -> the shared {"by": by}
        self._port_framing: dict[int, tuple] = {}           # server port -> (c2s, s2c) found
        self._port_outcome: dict[int, tuple] = {}           # server port -> (options, report)
        # (transport, id) of an undecided conversation -> its KnownFramingCheck of the port's
        # framing (dropped when the conversation is decided)
        self._checks: dict[tuple[str, int], KnownFramingCheck] = {}
        # (transport, id) -> (spec, options) of an unframed protocol its looks suggest, used
        # when inference finds no framing
        self.fallback: dict[tuple[str, int], tuple] = {}
        self.infer_limit = INFER_LIMIT
        self.remember_ports = True      # reuse a port's framing for its next conversations

    def forced_infer(self, server_port: int, client_port: int) -> bool:
        """--decode-as PORT=infer names one of the ports."""
        decode_as = self.decode_as
        if not decode_as:
            return False
        for p in (server_port, client_port):
            if decode_as.get(p, ("",))[0] == registry.INFER:
                return True
        return False

    def note(self, key: tuple[str, int], **info) -> None:
        """Record why conversation `key` got its protocol (shown by the summary views)."""
        old = self.choices.get(key)
        new = {**old, **info} if old else info
        for v in new.values():
            if type(v) is not str:
                break
        else:                                               # {"by": "port"}: one shared copy
            new = self._same_choice.setdefault(tuple(new.items()), new)
        self.choices[key] = new

    def note_by(self, key: tuple[str, int], by: str) -> None:
        """note(key, by=by): the shared {"by": by} of a key with no choice yet (the protocol of
        most conversations is chosen by their port this way, once)."""
        same = self._by_choice.get(by)
        if same is None:
            self.note(key, by=by)
            new = self.choices[key]
            if len(new) == 1:                   # {"by": by}: the copy note() shares
                self._by_choice[by] = new
        elif self.choices.setdefault(key, same) is not same:
            self.note(key, by=by)

    def choice_of(self, key: tuple[str, int]) -> dict | None:
        """{"by": "port"|"decode-as"|"probe"|"inference", "confidence", "rejected",
        "framing": {"c2s": ..., "s2c": ..., "threshold"}} of a conversation, or None."""
        return self.choices.get(key)

    def start_inference(self, cs) -> None:
        """Switch an undecided TCP conversation (analyzer.engine.conv_state.ConvState) from
        probing to inference: its buffers grow to infer_limit."""
        cs.options = {"infer": True}
        for direction, buf in enumerate(cs.probe_buf):
            buf.clear()
            for d, _off, _p, start, data in cs.probe_pending:
                if d == direction and start >= 0 and len(buf) < self.infer_limit:
                    buf += data[: self.infer_limit - len(buf)]

    def decide_framing(self, cs, final: bool):
        """None: wait for more bytes; else (codec options for FRAMED or None, the report)."""
        key = (cs.transport, cs.id)
        decision = self._decide_framing(cs, final, key)
        if decision is not None:
            self._checks.pop(key, None)
        return decision

    def _decide_framing(self, cs, final: bool, key: tuple[str, int]):
        port = cs.flow.server[1]
        known = self._checks.get(key)
        if known is None and port in self._port_framing:
            known = self._checks[key] = KnownFramingCheck(self._port_framing[port])
        if known is not None and not final and known.feed(cs.probe_pending, self.infer_limit):
            return self._port_outcome_of(port)      # the port's framing, sure already
        c2s, s2c = cs.probe_buf
        k = len(cs.probe_pending)
        # full: both directions reached the limit, or together they hold ONE_WAY_FACTOR times
        # it (one direction may be slow to speak, or never speak)
        full = final or min(len(c2s), len(s2c)) >= self.infer_limit
        if not full and (k < EARLY_PIECES or k & (k - 1)):   # infer at 16, 32, 64.. pieces
            return None
        full = full or self.pending_bytes(cs) >= ONE_WAY_FACTOR * self.infer_limit
        history = cs.flow.history() if final else ""
        pieces = samples(cs.probe_pending, self.infer_limit,
                         [cs.reasm[0].next_off, cs.reasm[1].next_off],
                         ["F" in history, "f" in history])
        found = (self.quick_infer(port, pieces)
                 if full and known is not None and not known.contradicted else None)
        if found is None and not full:
            results = infer_pair(pieces[0], pieces[1])      # sure already? then decide
            if any(r.framing is None or r.confidence < THRESHOLD for r in results):
                return None                         # both ways sure, or wait for the end
            self._remember(port, results)
            return self._outcome(results)
        return found if found is not None else self.infer(port, pieces)

    @staticmethod
    def pending_bytes(cs) -> int:
        """Bytes a conversation holds while its protocol is undecided (both directions)."""
        return sum(len(p[4]) for p in cs.probe_pending if p[3] >= 0)

    def infer(self, server_port: int, pieces: list[Sample]) -> tuple[dict, dict]:
        """Infer both directions: (codec options for dissectors.framed, the report)."""
        results = infer_pair(pieces[0], pieces[1])
        self._remember(server_port, results)
        return self._outcome(results)

    def quick_infer(self, server_port: int, pieces: list[Sample]):
        """The framing an earlier conversation on this port was found to have, when it
        explains these bytes too (>= 2 messages in a direction, none contradicted):
        (options, report) or None."""
        known = self._port_framing.get(server_port)
        if known is None:
            return None
        seen = 0
        for result, sample in zip(known, pieces):
            if result.framing is None or not sample.data:
                continue
            n = check(result.framing, sample)
            if n is None:
                return None
            seen = max(seen, n)
        if seen < 2:
            return None
        return self._port_outcome_of(server_port)

    def _port_outcome_of(self, server_port: int) -> tuple[dict, dict]:
        """(options, report) of a conversation cut with the framing its port is known by."""
        found = self._port_outcome.get(server_port)
        if found is None:
            results = [DirectionResult(r.framing, r.confidence, messages=0) if r.framing else r
                       for r in self._port_framing[server_port]]
            found = self._port_outcome[server_port] = self._outcome(results, same_as_port=True)
        return dict(found[0]), found[1]

    def _remember(self, server_port: int, results) -> None:
        if self.remember_ports and any(r.framing is not None and r.confidence >= THRESHOLD for r in results) \
                and all(r.framing is None or r.confidence >= THRESHOLD for r in results):
            self._port_framing.setdefault(server_port, tuple(results))

    @staticmethod
    def _outcome(results, same_as_port: bool = False) -> tuple[dict, dict]:
        options = {d: (r.framing.grammar() if r.framing is not None else None)
                   for d, r in zip(("c2s", "s2c"), results)}
        report = {"c2s": results[0].as_dict(), "s2c": results[1].as_dict(),
                  "threshold": THRESHOLD}
        if same_as_port:
            report["as_earlier_conversation_on_port"] = True
        return options, report

    def for_ports(self, transport: str, server_port: int, client_port: int):
        """(spec, options) named by --decode-as or a default port; (None, {}) if neither."""
        for port in (server_port, client_port):
            if port in self.decode_as:
                name, options = self.decode_as[port]
                try:
                    return registry.get(name), dict(options)
                except KeyError:       # "infer" (see forced_infer) or an unknown name
                    return None, {}
        for port in (server_port, client_port):
            spec = registry.by_port(transport, port)
            if spec is not None:
                return spec, {}
        return None, {}

    @staticmethod
    def probe(transport: str, c2s: bytes, s2c: bytes):
        """(spec, options) recognised from a conversation's first bytes, or None."""
        return registry.detect(transport, c2s, s2c)

    @staticmethod
    def probe_all(transport: str, c2s: bytes, s2c: bytes) -> list:
        """Every (spec, options) whose probe matches the first bytes, most specific first."""
        return registry.detect_all(transport, c2s, s2c)


    def sidecar_session(self, client: str, server: str) -> dict | None:
        """The next recorded session of this TCP connection ({"c2s": [(offset, length)], ...}),
        or None when the sidecar has none left."""
        sessions = self.sidecar.get(("tcp", client, server))
        if not sessions:
            return None
        k = self._sessions_used.get(id(sessions), 0)
        if k >= len(sessions):
            return None
        self._sessions_used[id(sessions)] = k + 1
        return sessions[k]


def framing_of(options: dict, direction: int) -> Framing | None:
    """The framing a dissectors.framed codec cuts `direction` with (None: not cut)."""
    text = options.get("framing") or options.get(("c2s", "s2c")[direction])
    return parse_framing(text) if text else None


def stated_report(options: dict) -> dict:
    """The `framing` report of a conversation cut with a framing given by --decode-as: per
    direction the framing in words and in the grammar, marked stated (no confidence to
    give); a direction left without a framing says so."""
    out = {}
    for direction, name in enumerate(("c2s", "s2c")):
        f = framing_of(options, direction)
        out[name] = ({"text": f.text(), "framing": f.grammar(), "stated": True} if f else
                     {"text": "not cut (no framing given)", "framing": None, "stated": True})
    return out

from dissectors.accelerated import accelerate  # noqa: E402 - the compiled twin, setup.py
accelerate(globals())
