"""Finding a person at the counter, each lookup audited: by resident code (the core
turns it into the municipality's own symbol; the terminal keeps no resident code), by
certificate serial, or by integrated number (団体内統合宛名番号)."""

from __future__ import annotations

from terminal.audit.trail import Operator
from terminal.linkage.core_client import SymbolSource
from terminal.linkage.registry import LinkageRegistry
from terminal.linkage.types import PersonView


def by_resident_code(
    core: SymbolSource, registry: LinkageRegistry, operator: Operator, resident_code: str
) -> PersonView:
    """INVALID_RESIDENT_CODE / RESIDENT_CODE_CHECK_DIGIT / UNKNOWN_RESIDENT from the core,
    UNKNOWN_PERSON when the resident has no card linked here."""
    symbols = core.person_symbols(resident_code, [])
    return registry.person_by_symbol(core.agency, symbols[core.agency], operator=operator)


def by_serial(
    registry: LinkageRegistry,
    operator: Operator,
    serial: int | str,
    *,
    issuer_key_id: str | None = None,
) -> PersonView:
    return registry.person_by_serial(serial, issuer_key_id=issuer_key_id, operator=operator)


def by_integrated_number(
    registry: LinkageRegistry, operator: Operator, integrated_number: str
) -> PersonView:
    return registry.person(integrated_number, operator=operator)
