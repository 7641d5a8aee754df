"""Options shared by several commands, so that each concept has one spelling."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from jpki.constants import RevocationReason
from terminal.cli.output import console, fail

PkiOption = Annotated[
    Path | None, typer.Option("--pki", help="Test PKI directory (default MYNATERM_HOME/pki).")
]
ResidentOption = Annotated[
    str | None, typer.Option("--resident-code", help="住民票コード of the holder.")
]
PersonaOption = Annotated[
    str | None, typer.Option("--persona", help="Take the resident code of a test persona.")
]
ReasonOption = Annotated[
    str,
    typer.Option(
        "--reason",
        help="Why (RFC 5280 reason in brackets): " + RevocationReason.choices() + ".",
    ),
]


def parse_reason(text: str, *, as_json: bool) -> RevocationReason:
    """The domain's reason for `text` (`mynaterm revoke` and `mynaterm pki revoke` take
    the same names); anything else is BAD_REASON."""
    try:
        return RevocationReason(text.strip().lower())
    except ValueError:
        fail(
            f"unknown revocation reason {text!r}; use one of: {RevocationReason.choices()}",
            code="BAD_REASON",
            as_json=as_json,
        )


def resident_code_from(resident_code: str | None, persona: str | None, as_json: bool) -> str:
    """The holder's resident code: given, or a test persona's (dev wing)."""
    if resident_code:
        return resident_code
    if persona:
        from terminal.dev.local import persona_resident_code

        return persona_resident_code(persona)
    fail(
        "give --resident-code (or --persona for a test persona)",
        code="USAGE",
        as_json=as_json,
    )


def print_fields(payload: dict[str, Any]) -> None:
    """A command's result as aligned `key: value` lines (the text form of --json).
    Nested objects print one line per leaf with a dotted key (`identity.fields.name`),
    so a clerk reads values, not Python reprs; values are never read as rich markup."""
    from rich.markup import escape

    lines = list(_leaves(payload))
    width = max((len(key) for key, _ in lines), default=0)
    for key, value in lines:
        console.print(f"[bold]{escape(key):>{width}}[/]: {escape(value)}", highlight=False)


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _leaves(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value):
        for index, inner in enumerate(value):
            yield from _leaves(inner, f"{prefix}[{index}]")
    elif isinstance(value, list | tuple):
        yield prefix, ", ".join(str(v) for v in value)
    else:
        yield prefix, "" if value is None else str(value)
