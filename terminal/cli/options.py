"""Options shared by several commands, so that each concept has one spelling."""

from __future__ import annotations

from typing import Annotated

import typer

from jpki.constants import RevocationReason
from terminal.cli.output import fail

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
