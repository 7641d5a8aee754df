"""The counter's and the kiosk's flows end to end: software cards issued by the test PKI,
the real validator (OCSP and CRLs of the PKI, verified), the symbol core, the linkage
registry on SQLite. Issue, renew, move, log in, and the identity refusals (another
resident's card, a card without a signature certificate bound through the card-info
applet); then scan everything written (store, logs, APDU traces, audit records) for the
My Numbers, basic 4 facts and PINs of the personas used."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from card.protocol import CardChannel
from card.trace import TRACE
from jpki.auth import AuthTokenValidator, CertificateRevokedError, InMemoryChallengeStore
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.personas import Persona, get_persona
from simulators.pki import TestPki
from terminal.audit.trail import Operator
from terminal.counter import CounterContext, IdentityMismatch, issuance, renewal
from terminal.db import open_store
from terminal.dev.local import validator_for
from terminal.flows import KioskContext, login
from terminal.linkage import LinkageRegistry
from terminal.linkage.errors import LinkageError, UnknownSerial
from tests.flows.counter_world import (
    ORIGIN,
    counter_context,
    issuance_request,
    renewal_request,
)


@dataclass
class World:
    pki: TestPki
    registry: LinkageRegistry
    counter: CounterContext
    kiosk: KioskContext
    db_path: Path
    home: Path

    def channel(self, card: SoftwareCard) -> CardChannel:
        return CardChannel(SoftwareCardConnection(card))


@pytest.fixture
def world(tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    home = tmp_path / "home"
    monkeypatch.setenv("MYNATERM_HOME", str(home))
    shutil.copytree(pki_dir, tmp_path / "pki")
    pki = TestPki.open(tmp_path / "pki")
    db_path = tmp_path / "terminal.db"
    store = open_store(f"sqlite:///{db_path}")
    registry = LinkageRegistry(store)
    validator = validator_for(pki)
    challenges = InMemoryChallengeStore()
    counter = counter_context(pki, registry)
    kiosk = KioskContext(
        challenges,
        AuthTokenValidator(validator, challenges, ORIGIN),
        registry,
        ORIGIN,
        Operator("kiosk", "kiosk-1"),
    )
    yield World(pki, registry, counter, kiosk, db_path, home)
    store.close()


def fresh_kiosk(world: World) -> KioskContext:
    challenges = InMemoryChallengeStore()
    validator = validator_for(world.pki)
    return KioskContext(
        challenges,
        AuthTokenValidator(validator, challenges, ORIGIN),
        world.registry,
        ORIGIN,
        Operator("kiosk", "kiosk-2"),
    )


def new_card(world: World, persona: Persona) -> SoftwareCard:
    return SoftwareCard.create(persona, world.pki)


def test_issue_renew_move_login(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(TRACE)  # every log line, APDU traces included, is scanned below
    logging.getLogger("card.apdu").setLevel(TRACE)
    persona = get_persona("sato-hanako")
    first = new_card(world, persona)
    issued = issuance.issue(
        world.channel(first), world.counter, issuance_request(persona.resident_code, persona)
    )
    assert issued.reading.auth.revocation.status == "good"
    # The card leaves the counter locked: no PIN stays verified after the reads.
    from jpki.constants import PinKind
    from jpki.jpki_ap import JpkiSession

    after = JpkiSession(world.channel(first))
    assert not any(after.pin_status(kind).verified for kind in (PinKind.AUTH, PinKind.SIGN))
    symbol = login(world.channel(first), world.kiosk, pin=persona.pins.auth).resolution
    assert symbol.integrated_number == issued.result.integrated_number

    # Renewal: a new card with new serials; the authority revokes the old ones.
    second = new_card(world, persona)
    renewed = renewal.renew(
        world.channel(second),
        world.counter,
        renewal_request(issued.result.auth_serial, persona),
    )
    assert renewed.result.new_auth_serial != issued.result.auth_serial
    world.pki.revoke_card(int(issued.result.auth_serial), "renewal")
    again = login(world.channel(second), world.kiosk, pin=persona.pins.auth).resolution
    assert again.portal_symbol == symbol.portal_symbol
    # The kiosk's validator holds a fresh OCSP "good" for the old certificate until its
    # nextUpdate (as a real verifier caches), so the registry is what refuses it now ...
    with pytest.raises(LinkageError) as superseded:
        login(world.channel(first), world.kiosk, pin=persona.pins.auth)
    assert superseded.value.code == "CERT_REVOKED"
    # ... and a verifier without that cached answer learns the revocation from the PKI.
    fresh = fresh_kiosk(world)
    with pytest.raises(CertificateRevokedError):
        login(world.channel(first), fresh, pin=persona.pins.auth)

    # A move: the signature certificate is revoked, the auth certificate lives on.
    world.pki.revoke(int(renewed.result.new_sign_serial or 0), "move")
    world.registry.revoke(
        renewed.result.new_sign_serial or "", "basic_facts_changed", world.counter.operator
    )
    after_move = login(world.channel(second), world.kiosk, pin=persona.pins.auth).resolution
    assert after_move.portal_symbol == symbol.portal_symbol

    # Another resident's card is refused at issuance, with the card-info applet read
    # (its facts and My Number go to the core's match) and the trace on.
    intruder = get_persona("takahashi-kenichi")
    with pytest.raises(IdentityMismatch) as refused:
        issuance.issue(
            world.channel(new_card(world, intruder)),
            world.counter,
            issuance_request(persona.resident_code, intruder, cardinfo=True),
        )
    assert set(refused.value.mismatched) >= {"name", "my_number", "address", "birth_date"}
    # A holder under 15: no signature certificate, bound through the card-info applet.
    minor = get_persona("nakamura-hinata")
    minor_card = new_card(world, minor)
    bound = issuance.issue(
        world.channel(minor_card), world.counter, issuance_request(minor.resident_code, minor)
    )
    assert bound.result.sign_serial is None
    assert [f.source for f in bound.reading.facts] == ["card_info"]
    assert set(bound.verdict.combined().values()) == {"match"}  # My Number included
    assert login(world.channel(minor_card), world.kiosk, pin=minor.pins.auth).resolution

    # Nothing written anywhere holds the My Number, the basic 4 facts or a PIN. Long
    # secrets are searched as bytes everywhere. A 4-digit PIN would match by chance in
    # any large file of digits and hex, so for those the trace is checked by structure:
    # every VERIFY carrying data is redacted.
    long_secrets = [
        secret
        for holder in (persona, intruder, minor)
        for secret in (
            holder.my_number.reveal(),
            holder.pins.sign,
            holder.name,
            holder.address,
            holder.family_name,
            holder.birth_date.strftime("%Y%m%d"),
            holder.birth_date.isoformat(),
            holder.resident_code,
        )
    ]
    written = world.db_path.read_bytes()
    for wal in world.db_path.parent.glob("terminal.db-*"):
        written += wal.read_bytes()
    lines = [r.getMessage() for r in caplog.records]
    logs = "\n".join(lines).encode()
    assert logs, "the APDU trace was enabled and must have been scanned"
    for secret in long_secrets:
        needle = secret.encode()
        assert needle not in written, "found personal data in the database"
        assert needle not in logs, "found personal data in the logs"
        assert needle.hex(" ").upper().encode() not in logs, "found personal data in a trace"
    verifies = [line for line in lines if line.startswith("> 00 20 00 80 ")]
    assert verifies and all("bytes redacted>" in line for line in verifies)
    # The audit records say what was checked and refused, never with what values.
    records = world.registry.audit.list(limit=1000)
    results = [(r.operation, r.result) for r in records]
    assert ("counter.identity_check", "match:face_to_face") in results
    assert any(
        op == "counter.identity_check" and res.startswith("mismatch:") for op, res in results
    )
    assert ("linkage.issue", "refused:IDENTITY_MISMATCH") in results
    audit_text = "\n".join(str(r.as_dict()) for r in records)
    for secret in long_secrets:
        assert secret not in audit_text, "found personal data in the audit records"
    assert any("personal data redacted" in line for line in lines)
    for path in world.home.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in long_secrets:
                assert secret.encode() not in content, f"found personal data in {path}"


def test_old_serial_refused_by_the_registry_even_if_the_pki_lags(world: World) -> None:
    """After a renewal the old certificate no longer resolves, whether or not the
    authority's revocation has reached the verifier yet."""
    persona = get_persona("watanabe-yuki")
    first = new_card(world, persona)
    issued = issuance.issue(
        world.channel(first), world.counter, issuance_request(persona.resident_code, persona)
    )
    renewal.renew(
        world.channel(new_card(world, persona)),
        world.counter,
        renewal_request(issued.result.auth_serial, persona),
    )
    with pytest.raises(LinkageError) as refused:
        login(world.channel(first), world.kiosk, pin=persona.pins.auth)
    assert refused.value.code == "CERT_REVOKED"


def test_same_card_twice_is_a_conflict_or_replay(world: World) -> None:
    persona = get_persona("ito-sora")
    card = new_card(world, persona)
    request = issuance_request(persona.resident_code, persona, request_id="req-1")
    first = issuance.issue(world.channel(card), world.counter, request)
    replay = issuance.issue(world.channel(card), world.counter, request)
    assert replay.result.replayed and replay.result.auth_serial == first.result.auth_serial
    with pytest.raises(LinkageError) as conflict:
        issuance.issue(
            world.channel(card), world.counter, issuance_request(persona.resident_code, persona)
        )
    assert conflict.value.code == "LINK_CONFLICT"
    # The same card for another resident never gets that far: it is not theirs.
    with pytest.raises(IdentityMismatch):
        issuance.issue(
            world.channel(card),
            world.counter,
            issuance_request(get_persona("suzuki-aoi").resident_code, persona),
        )


def test_revoked_card_is_refused_at_issuance(world: World) -> None:
    persona = get_persona("kobayashi-mei")
    card = new_card(world, persona)
    world.pki.revoke(_auth_serial(card), "loss")
    from jpki.validation import CertificateRevokedError as Revoked

    # The auth-key proof validates the certificate first (jpki.auth's error, same code).
    with pytest.raises((Revoked, CertificateRevokedError)):
        issuance.issue(
            world.channel(card), world.counter, issuance_request(persona.resident_code, persona)
        )
    with pytest.raises(UnknownSerial):  # nothing was linked
        world.registry.certificate(_auth_serial(card))


def _auth_serial(card: SoftwareCard) -> int:
    from cryptography import x509

    return x509.load_der_x509_certificate(card.auth_certificate).serial_number
