"""Finding a person at the counter, each lookup audited: by resident code (the core
turns it into the municipality's own symbol; the terminal keeps no resident code), by
certificate serial, or by integrated number (団体内統合宛名番号)."""

from __future__ import annotations

from terminal.counter.context import CounterContext
from terminal.linkage.types import PersonView


def by_resident_code(ctx: CounterContext, resident_code: str) -> PersonView:
    """INVALID_RESIDENT_CODE / RESIDENT_CODE_CHECK_DIGIT / UNKNOWN_RESIDENT from the core,
    UNKNOWN_PERSON when the resident has no card linked here."""
    symbols = ctx.core.person_symbols(resident_code, [])
    return ctx.registry.person_by_symbol(
        ctx.core.agency, symbols[ctx.core.agency], operator=ctx.operator
    )


def by_serial(
    ctx: CounterContext, serial: int | str, *, issuer_key_id: str | None = None
) -> PersonView:
    return ctx.registry.person_by_serial(serial, issuer_key_id=issuer_key_id, operator=ctx.operator)


def by_integrated_number(ctx: CounterContext, integrated_number: str) -> PersonView:
    return ctx.registry.person(integrated_number, operator=ctx.operator)
