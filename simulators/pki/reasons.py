"""Revocation reasons: JPKI life events mapped onto RFC 5280 CRLReason."""

from __future__ import annotations

from cryptography import x509

from jpki.constants import RevocationReason
from simulators.pki.errors import UnknownReasonError

# Events at the municipal counter (domain.md "Revocation" and "Certificates").
JPKI_EVENTS: dict[str, x509.ReasonFlags] = {
    "move": x509.ReasonFlags.affiliation_changed,  # a basic-4 fact changed (address, name)
    "renewal": x509.ReasonFlags.superseded,  # new card, new certificates
    "loss": x509.ReasonFlags.key_compromise,  # the card (and key) is out of control
    "death": x509.ReasonFlags.cessation_of_operation,
    "return": x509.ReasonFlags.cessation_of_operation,  # card handed back
}

# Revocation here is final, so the suspension reasons (certificateHold, removeFromCRL)
# are not offered.
_RFC_REASONS = [
    flag
    for flag in x509.ReasonFlags
    if flag not in (x509.ReasonFlags.certificate_hold, x509.ReasonFlags.remove_from_crl)
]


def _fold(text: str) -> str:
    return text.replace("_", "").replace("-", "").replace(" ", "").lower()


# The domain's reasons (the vocabulary of every command) through their RFC 5280 name.
DOMAIN_REASONS: dict[str, x509.ReasonFlags] = {
    reason.value: next(f for f in _RFC_REASONS if _fold(f.value) == _fold(reason.rfc5280))
    for reason in RevocationReason
}

_BY_FOLDED: dict[str, x509.ReasonFlags] = {
    **{_fold(flag.value): flag for flag in _RFC_REASONS},
    **{_fold(name): flag for name, flag in JPKI_EVENTS.items()},
    **{_fold(name): flag for name, flag in DOMAIN_REASONS.items()},
}


def parse_reason(reason: str | x509.ReasonFlags) -> x509.ReasonFlags:
    """A domain reason (jpki.constants.RevocationReason: "loss", "card_returned", ...),
    a short event name ("move", "return"), or an RFC 5280 name in any of the usual
    spellings ("keyCompromise", "key_compromise", "key-compromise")."""
    if isinstance(reason, x509.ReasonFlags):
        if reason in _RFC_REASONS:
            return reason
        raise UnknownReasonError(f"{reason.value} is not offered: revocation here is final")
    flag = _BY_FOLDED.get(_fold(str(reason)))
    if flag is None:
        known = RevocationReason.choices()
        raise UnknownReasonError(f"unknown revocation reason {reason!r}; use one of: {known}")
    return flag


def reason_names() -> list[str]:
    return [*JPKI_EVENTS, *(flag.value for flag in _RFC_REASONS)]
