"""Is the card in the reader the resident's? Each source of facts the card gave (the
signature certificate, the card-info applet with the My Number) goes to the symbol
core's match operation; every field of every source must match the register. The
answer is per field ("match" / "mismatch" / "not_given"), never a fact.

Both sources must agree with the register: a card whose card-info facts and signature
certificate disagree cannot match on both, so it is refused (see docs/decisions.md)."""

from __future__ import annotations

from dataclasses import dataclass

from terminal.audit.trail import Operation, Subject
from terminal.counter.cardread import CardReading
from terminal.counter.context import CounterContext
from terminal.counter.errors import IdentityMismatch

IDENTITY_CHECK = Operation.IDENTITY_CHECK


@dataclass(frozen=True)
class IdentityVerdict:
    """Per source, per field: the register's verdict. Holds no fact."""

    sources: dict[str, dict[str, str]]

    @property
    def mismatched(self) -> list[str]:
        return sorted(
            {
                field
                for fields in self.sources.values()
                for field, v in fields.items()
                if v == "mismatch"
            }
        )

    @property
    def matches(self) -> bool:
        return not self.mismatched and bool(self.sources)

    def combined(self) -> dict[str, str]:
        """One verdict per field across the sources: mismatch wins, then match."""
        out: dict[str, str] = {}
        for fields in self.sources.values():
            for field, verdict in fields.items():
                current = out.get(field, "not_given")
                if verdict == "mismatch" or (verdict == "match" and current == "not_given"):
                    out[field] = verdict
                else:
                    out.setdefault(field, current)
        return out


def check_identity(
    ctx: CounterContext,
    reading: CardReading,
    *,
    resident_code: str | None = None,
    agency_symbol: str | None = None,
) -> IdentityVerdict:
    """Ask the core about each source the card gave, for the resident `resident_code`
    or the person the terminal's municipality knows as `agency_symbol`."""
    sources = {
        facts.source: ctx.core.match_identity(
            facts.for_core(), resident_code=resident_code, agency_symbol=agency_symbol
        )
        for facts in reading.facts
    }
    return IdentityVerdict(sources)


def audit_identity_check(
    ctx: CounterContext, reading: CardReading, verdict: IdentityVerdict, *, confirmed: bool
) -> None:
    """One audit record of the check: `match:face_to_face` when the clerk confirmed
    the face-to-face verification, `match:unconfirmed` for a preview, `mismatch:<fields>`
    (names, not values) for a refusal."""
    info = reading.auth_info()
    if verdict.matches:
        result = "match:face_to_face" if confirmed else "match:unconfirmed"
    else:
        result = "mismatch:" + "+".join(verdict.mismatched)
    ctx.registry.audit.record_now(
        operator=ctx.operator,
        operation=IDENTITY_CHECK,
        subject=Subject.certificate(info.issuer_key_id, info.serial),
        result=result[:48],
    )


def require_match(
    ctx: CounterContext, reading: CardReading, verdict: IdentityVerdict, operation: Operation
) -> None:
    """Audit the check; on any mismatch also audit the refused `operation` and raise
    IDENTITY_MISMATCH. Nothing has been linked at this point."""
    audit_identity_check(ctx, reading, verdict, confirmed=True)
    if verdict.matches:
        return
    error = IdentityMismatch(verdict.mismatched)
    info = reading.auth_info()
    ctx.registry.audit.record_now(
        operator=ctx.operator,
        operation=operation,
        subject=Subject.certificate(info.issuer_key_id, info.serial),
        result=f"refused:{error.code}",
    )
    raise error
