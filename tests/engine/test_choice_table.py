"""The protocol choices of a capture's conversations (analyzer.engine.protocol_choice.
ChoiceTable, a C class in the compiled twin): what a dict keyed by (transport, id) would
answer, for ids set in any order, both transports, missing and impossible keys."""
from __future__ import annotations

import random

import pytest

from analyzer.engine import protocol_choice
from tests.pure_module import load_pure


def _tables(monkeypatch) -> list:
    tables = [protocol_choice.ChoiceTable()]
    if hasattr(protocol_choice, "__compiled__"):
        tables.append(load_pure(protocol_choice, monkeypatch).ChoiceTable())
    return tables


def test_choice_table_answers_as_a_dict(monkeypatch):
    rng = random.Random(3)
    port, probe = {"by": "port"}, {"by": "probe", "rejected": ["chat"]}
    for table in _tables(monkeypatch):
        ref: dict = {}
        for _ in range(3000):
            key = (rng.choice(["tcp", "udp"]), rng.choice([0, 1, 5, rng.randrange(300)]))
            op = rng.random()
            if op < 0.4:
                assert table.setdefault(key, port) is ref.setdefault(key, port)
            elif op < 0.6:
                table[key] = ref[key] = probe
            else:
                assert table.get(key) is ref.get(key)
                assert table.of(*key) is ref.get(key)
                assert table.get(key, "none") == ref.get(key, "none")
            if key in ref:
                assert table[key] is ref[key]
        missing = ("tcp", 10 ** 6)
        with pytest.raises(KeyError):
            table[missing]
        assert table.get(("icmp", 0)) is None and table.of("tcp", -1) is None
        with pytest.raises(KeyError):
            table[("icmp", 0)] = port
        with pytest.raises(KeyError):
            table[("tcp", -1)] = port


def test_engine_keeps_each_conversations_choice(tmp_path):
    """A capture's conversations chosen by port each find {"by": "port"} (one shared dict),
    through choice_of as through the table."""
    from tests.engine.test_packed_conversations import analyzed, capture
    eng = analyzed(capture(tmp_path, 1), True)
    chooser = eng.protocols
    tcp = [e for e in eng.states.entries if e.transport == "tcp"]
    found = [chooser.choice_of(("tcp", e.id)) for e in tcp]
    assert sum(c == {"by": "port"} for c in found) > 20
    shared = {id(c) for c in found if c == {"by": "port"}}
    assert len(shared) == 1
    assert all(chooser.choices.of("tcp", e.id) is c for e, c in zip(tcp, found))
