"""Refusals of the counter's use cases, each with a stable code (see
terminal/service/errors.py for their HTTP statuses)."""

from __future__ import annotations

from collections.abc import Iterable

from terminal.linkage.errors import LinkageError


class CounterRefusal(LinkageError):
    code = "COUNTER_REFUSED"


class IdentityMismatch(CounterRefusal):
    """The card does not belong to the resident (issuance) or to the person of the old
    card (renewal). Names the fields that disagree, never their values."""

    code = "IDENTITY_MISMATCH"

    def __init__(self, mismatched: Iterable[str]) -> None:
        self.mismatched = tuple(sorted(set(mismatched)))
        super().__init__(
            "the card does not belong to this resident: "
            + ", ".join(self.mismatched)
            + " differ from the resident register"
        )

    def fields(self) -> dict[str, object]:
        return {"fields": list(self.mismatched)}


class FaceToFaceRequired(CounterRefusal):
    """The clerk has not confirmed the face-to-face verification (本人確認)."""

    code = "FACE_TO_FACE_REQUIRED"


class IdentityFactsRequired(CounterRefusal):
    """Neither the sign PIN (the signature certificate's facts) nor the card-info PIN
    (the card-info applet's facts) was given: nothing to compare with the register."""

    code = "IDENTITY_FACTS_REQUIRED"


class CardMismatch(CounterRefusal):
    """The auth-key proof was made with another certificate than the one read."""

    code = "CARD_MISMATCH"
