"""The test PKI as the counter's issuing authority (terminal.counter.cardlife.IssuingAuthority):
it answers the software card's issuer challenge, certifies card-generated keys and
revokes replaced certificates. Residents are the test personas, looked up by resident
code each time, so editing the personas file (MYNATERM_PERSONAS) is how a move reaches
the register: the next sign certificate carries the new address and partition.

The admin channel it serves is a MODEL (jpki/admin_protocol.py)."""

from __future__ import annotations

from typing import Any

from jpki.issuance import GeneratedKey
from terminal.counter.cardlife import IssuerRefused, RevocationEvent

_REASONS: dict[str, str] = {
    "renewal": "renewal",  # superseded
    "move": "move",  # affiliationChanged
    "unused": "cessationOfOperation",  # issued, never became live on the card
}


class TestPkiAuthority:
    """Adapter from terminal.counter.cardlife's IssuingAuthority to simulators.pki.TestPki."""

    __test__ = False

    def __init__(self, pki: Any) -> None:
        self.pki = pki

    def __repr__(self) -> str:
        return f"TestPkiAuthority({self.pki.directory})"

    @staticmethod
    def _holder(resident_code: str) -> Any:
        from simulators.personas import load_personas

        for persona in load_personas():
            if persona.resident_code == resident_code:
                return persona
        raise IssuerRefused("the issuing authority knows no resident with that code")

    def answer_challenge(self, challenge: bytes) -> bytes:
        return bytes(self.pki.answer_card_challenge(challenge))

    def pop_nonce(self) -> bytes:
        return bytes(self.pki.new_pop_nonce())

    def certify(self, generated: GeneratedKey, *, resident_code: str, replaces: int) -> bytes:
        from simulators.pki import PkiError

        holder = self._holder(resident_code)
        try:
            der, _ = self.pki.certify_generated_key(
                holder,
                generated.kind.value,
                generated.answer,
                generated.nonce,
                replaces=replaces,
            )
        except PkiError as exc:
            raise IssuerRefused(f"the issuing authority refused: {exc}") from None
        return bytes(der)

    def _record(self, serial: int) -> Any:
        from simulators.pki import UnknownSerialError

        try:
            return self.pki.record(int(serial))
        except UnknownSerialError:
            return None

    def holder_matches(self, serial: int, resident_code: str) -> bool:
        record = self._record(serial)
        if record is None or record.role != "card":
            return False
        try:
            return bool(record.persona_id == self._holder(resident_code).id)
        except IssuerRefused:
            return False

    def certificate(self, serial: int) -> bytes | None:
        record = self._record(serial)
        return None if record is None else bytes(record.der)

    def predecessor(self, serial: int) -> int | None:
        record = self._record(serial)
        if record is None or record.previous_serial is None:
            return None
        previous = self._record(record.previous_serial)
        same_card = previous is not None and previous.card_id == record.card_id
        return int(record.previous_serial) if same_card else None

    def successors(self, serial: int) -> list[bytes]:
        record = self._record(serial)
        if record is None:
            return []
        return [
            bytes(r.der)
            for r in self.pki.successors(int(serial))
            if not r.revoked and r.card_id == record.card_id
        ]

    def revoke(self, serial: int, event: RevocationEvent) -> bool:
        from simulators.pki import AlreadyRevokedError

        try:
            self.pki.revoke(int(serial), _REASONS[event])
        except AlreadyRevokedError:
            return False
        return True
