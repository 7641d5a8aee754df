"""The conformance table: every row of every tests/conformance/facts_*.py module run
against the software card, in process and through pyscard -> pcscd -> vpcd, as raw
APDUs. A row passes when each step's status word (x = any nibble), data and length are
what the cited real-card fact says. The cite is in the test id."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable

import pytest

import tests.conformance as table
from card.protocol import CardChannel
from simulators.card import SoftwareCard
from tests.conformance.facts import Fact, Step

pytestmark = pytest.mark.timeout(120)


def collect_facts() -> list[Fact]:
    facts: list[Fact] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(table.__path__)):
        if module.startswith("facts_"):
            facts.extend(importlib.import_module(f"{table.__name__}.{module}").FACTS)
    return facts


FACTS = collect_facts()


def fact_id(fact: Fact) -> str:
    ascii_cite = fact.cite.replace("§", "S")
    return re.sub(r"[^A-Za-z0-9.=/|\[\]-]+", "_", ascii_cite).strip("_")


def sw_matches(pattern: str, sw: int) -> bool:
    expected = pattern.replace(" ", "").upper()
    actual = f"{sw:04X}"
    if len(expected) != 4:
        raise ValueError(f"status word pattern {pattern!r} is not 4 nibbles")
    return all(e in ("X", a) for e, a in zip(expected, actual, strict=True))


def test_the_table_is_not_empty_and_ids_are_unique() -> None:
    assert len(FACTS) >= 40
    ids = [fact_id(fact) for fact in FACTS]
    assert len(set(ids)) == len(ids), [i for i in ids if ids.count(i) > 1]


def test_wildcards() -> None:
    assert sw_matches("63Cx", 0x63C2) and not sw_matches("63Cx", 0x6984)
    assert sw_matches("6xxx", 0x6A86) and not sw_matches("6xxx", 0x9000)


def run_step(channel: CardChannel, index: int, step: Step) -> None:
    apdu = bytes.fromhex(step.command.replace(" ", ""))
    data, sw = channel.connection.transmit(apdu)
    where = f"step {index} ({step.command[:24]}): SW={sw:04X}, {len(data)} bytes"
    assert sw_matches(step.sw, sw), f"{where}, expected SW {step.sw}"
    if step.data is not None:
        assert data.hex().upper() == step.data.replace(" ", "").upper(), where
    if step.length is not None:
        assert len(data) == step.length, f"{where}, expected {step.length} bytes"


@pytest.mark.parametrize("fact", FACTS, ids=[fact_id(fact) for fact in FACTS])
def test_fact(
    fact: Fact,
    connect: Callable[..., CardChannel],
    card_templates: dict[str, SoftwareCard],
) -> None:
    card = card_templates[fact.persona].copy(t0=fact.t0)
    channel = connect(card)
    for index, step in enumerate(fact.steps, 1):
        run_step(channel, index, step)
