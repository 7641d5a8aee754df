"""The card's life at the counter (terminal.counter.cardlife) end to end: software cards from the
test PKI, the real validator, the symbol core, the registry on SQLite, the kiosk login.
PIN setting on a new card, PIN reset after a lock at the kiosk, renewal on the same card,
a new sign certificate after a move, identity refusals, and a renewal interrupted at
every APDU index that still leaves card and registry consistent."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509

from card.errors import CardRemovedError, InvalidPinError, PinBlockedError, PinNotSetError
from card.protocol import CardChannel
from jpki.auth import AuthTokenValidator, InMemoryChallengeStore
from jpki.cardinfo_ap import CardInfoSession
from jpki.constants import KeyKind, PinKind
from jpki.issuance import confirm_new_pin
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.card.software_card import HOLDER_PINS
from simulators.personas import Persona, get_persona
from simulators.pki import TestPki
from terminal.audit.trail import Operation, Operator
from terminal.counter import CardPins, CounterContext, IssuanceRequest, issuance
from terminal.counter.cardlife import (
    CardLifeContext,
    RegisterIdentityBinding,
    reconcile,
    renew_on_card,
    reset_pin,
    set_pins,
)
from terminal.counter.errors import FaceToFaceRequired, IdentityMismatch
from terminal.db import open_store
from terminal.dev.issuer import TestPkiAuthority
from terminal.dev.local import validator_for
from terminal.flows import KioskContext, login
from terminal.linkage import LinkageRegistry
from terminal.linkage.errors import CertRevoked, NotLinked
from terminal.linkage.types import CertInfo
from tests.flows.counter_world import counter_context

ORIGIN = "https://portal.example.jp"
CLERK = Operator("clerk-1", "counter-1")


@dataclass
class World:
    pki: TestPki
    registry: LinkageRegistry
    life: CardLifeContext
    counter: CounterContext
    kiosk: KioskContext

    def close(self) -> None:
        self.registry.store.close()


def make_world(pki_dir: Path, db_path: Path) -> World:
    pki = TestPki.open(pki_dir)
    registry = LinkageRegistry(open_store(f"sqlite:///{db_path}"))
    validator = validator_for(pki)
    challenges = InMemoryChallengeStore()
    return World(
        pki,
        registry,
        CardLifeContext(validator, registry, TestPkiAuthority(pki), CLERK),
        counter_context(pki, registry),
        KioskContext(
            challenges,
            AuthTokenValidator(validator, challenges, ORIGIN),
            registry,
            ORIGIN,
            Operator("kiosk", "kiosk-1"),
        ),
    )


@pytest.fixture
def world(tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("MYNATERM_HOME", str(tmp_path / "home"))
    shutil.copytree(pki_dir, tmp_path / "pki")
    made = make_world(tmp_path / "pki", tmp_path / "terminal.db")
    yield made
    made.close()


def channel(card: SoftwareCard) -> CardChannel:
    return CardChannel(SoftwareCardConnection(card))


def serial(der: bytes) -> int:
    return x509.load_der_x509_certificate(der).serial_number


def issue(world: World, card: SoftwareCard, resident_code: str, pins: CardPins) -> None:
    """Issuance as the counter runs it (issue 10: identity match, auth-key proof)."""
    issuance.issue(
        channel(card),
        world.counter,
        IssuanceRequest(resident_code=resident_code, pins=pins, face_to_face_confirmed=True),
    )


def issued_card(world: World, persona: Persona) -> tuple[SoftwareCard, str]:
    card = SoftwareCard.create(persona, world.pki)
    issue(world, card, persona.resident_code, CardPins(persona.pins.auth, persona.pins.sign))
    symbol = login(channel(card), world.kiosk, pin=persona.pins.auth).resolution.portal_symbol
    return card, symbol


def test_set_pins_on_a_new_card_then_issue_and_log_in(world: World) -> None:
    persona = get_persona("sato-hanako")
    card = SoftwareCard.create(persona, world.pki, unset_pins=True)
    with pytest.raises(PinNotSetError):
        login(channel(card), world.kiosk, pin="1111")
    new_pins = {
        PinKind.AUTH: confirm_new_pin(PinKind.AUTH, "7319", "7319"),
        PinKind.SIGN: confirm_new_pin(PinKind.SIGN, "hanako2031", "HANAKO2031"),
        PinKind.CARD_INFO: confirm_new_pin(PinKind.CARD_INFO, "7319", "7319"),
    }
    outcome = set_pins(
        channel(card),
        world.life,
        resident_code=persona.resident_code,
        pins=new_pins,
        face_to_face_confirmed=True,
    )
    assert sorted(outcome.set) == ["auth", "cardinfo", "sign"] and not outcome.already_set
    issue(world, card, persona.resident_code, CardPins("7319", "HANAKO2031"))
    resolution = login(channel(card), world.kiosk, pin="7319").resolution
    assert resolution.serial == str(serial(card.auth_certificate))
    again = set_pins(
        channel(card),
        world.life,
        resident_code=persona.resident_code,
        pins={PinKind.AUTH: "0000"},
        face_to_face_confirmed=True,
    )
    assert again.already_set == ("auth",) and not again.set
    login(channel(card), world.kiosk, pin="7319")  # unchanged


def test_identity_is_checked_before_the_card_is_touched(world: World) -> None:
    persona = get_persona("sato-hanako")
    other = get_persona("yamada-taro")
    card = SoftwareCard.create(persona, world.pki, unset_pins=True)
    with pytest.raises(FaceToFaceRequired):
        set_pins(
            channel(card),
            world.life,
            resident_code=persona.resident_code,
            pins={PinKind.AUTH: "1234"},
            face_to_face_confirmed=False,
        )
    with pytest.raises(IdentityMismatch):
        set_pins(
            channel(card),
            world.life,
            resident_code=other.resident_code,
            pins={PinKind.AUTH: "1234"},
            face_to_face_confirmed=True,
        )
    assert not any(card.pin_is_set(kind) for kind in HOLDER_PINS)


def test_lock_at_the_kiosk_reset_at_the_counter_log_in(world: World) -> None:
    persona = get_persona("yamada-taro")
    card, symbol = issued_card(world, persona)
    for left in (2, 1):
        with pytest.raises(InvalidPinError) as wrong:
            login(channel(card), world.kiosk, pin="0000")
        assert wrong.value.remaining == left
    with pytest.raises(PinBlockedError):  # the try that exhausts the counter
        login(channel(card), world.kiosk, pin="0000")
    with pytest.raises(PinBlockedError):
        login(channel(card), world.kiosk, pin=persona.pins.auth)
    with pytest.raises(IdentityMismatch):
        reset_pin(
            channel(card),
            world.life,
            resident_code=get_persona("sato-hanako").resident_code,
            kind=PinKind.AUTH,
            new_pin="2468",
            face_to_face_confirmed=True,
        )
    outcome = reset_pin(
        channel(card),
        world.life,
        resident_code=persona.resident_code,
        kind=PinKind.AUTH,
        new_pin=confirm_new_pin(PinKind.AUTH, "2468", "2468"),
        face_to_face_confirmed=True,
    )
    assert outcome.remaining == 3
    assert login(channel(card), world.kiosk, pin="2468").resolution.portal_symbol == symbol
    operations = [entry.operation for entry in world.registry.audit.list(limit=1000)]
    assert Operation.CARD_PIN_RESET.value in operations


def test_renew_both_on_the_same_card(world: World) -> None:
    persona = get_persona("yamada-taro")
    card, symbol = issued_card(world, persona)
    old_card = card.copy()  # a clone with the old keys: what a copied old card would do
    old_auth, old_sign = serial(card.auth_certificate), serial(card.sign_certificate)
    outcome = renew_on_card(
        channel(card),
        world.life,
        resident_code=persona.resident_code,
        kinds=[KeyKind.AUTH, KeyKind.SIGN],
        face_to_face_confirmed=True,
    )
    result = outcome.result
    assert result.old_auth_serial == str(old_auth) and result.old_sign_serial == str(old_sign)
    assert result.new_auth_serial == str(serial(card.auth_certificate)) != str(old_auth)
    assert result.new_sign_serial == str(serial(card.sign_certificate)) != str(old_sign)
    resolution = login(channel(card), world.kiosk, pin=persona.pins.auth).resolution
    assert resolution.portal_symbol == symbol
    assert resolution.serial == result.new_auth_serial
    chain = world.registry.chain(result.new_auth_serial)
    assert [c.serial for c in chain] == [str(old_auth), result.new_auth_serial]
    issuer = auth_issuer(card)
    with pytest.raises(CertRevoked):
        world.registry.resolve_login(old_auth, issuer)
    for old in (old_auth, old_sign):
        status = world.pki.status(old)
        assert status.state == "revoked" and status.reason == "superseded"
    assert world.pki.status(int(result.new_auth_serial)).state == "good"
    # The old serial is refused at the kiosk: the registry has it superseded (and the
    # authority revoked it, which a validator sees once its CRL is newer than that).
    with pytest.raises(CertRevoked):
        login(channel(old_card), world.kiosk, pin=persona.pins.auth)


def auth_issuer(card: SoftwareCard) -> str:
    return CertInfo.from_der(card.auth_certificate).issuer_key_id


def test_a_move_gives_a_new_sign_certificate_on_the_same_card(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    persona = get_persona("yamada-taro")
    card, symbol = issued_card(world, persona)
    old_auth, old_sign = serial(card.auth_certificate), serial(card.sign_certificate)
    # The register learns the new address (the personas file is the test register).
    source = Path(__file__).parents[2] / "simulators" / "personas.toml"
    moved = tmp_path / "personas.toml"
    moved.write_text(
        source.read_text(encoding="utf-8")
        .replace("東京都千代田区霞が関二丁目1番2号", "大阪府大阪市北区中之島一丁目3番20号", 1)
        .replace(
            'prefecture = "東京都"\ncity = "千代田区"', 'prefecture = "大阪府"\ncity = "大阪市"', 1
        )
        .replace(
            'prefecture_en = "Tokyo"\ncity_en = "Chiyoda-ku"',
            'prefecture_en = "Osaka"\ncity_en = "Osaka-shi"',
            1,
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("MYNATERM_PERSONAS", str(moved))
    outcome = renew_on_card(
        channel(card),
        world.life,
        resident_code=persona.resident_code,
        kinds=[KeyKind.SIGN],
        face_to_face_confirmed=True,
        move=True,
    )
    assert outcome.result.new_auth_serial == str(old_auth)  # the auth certificate stays
    new_sign = int(outcome.result.new_sign_serial or 0)
    assert new_sign == serial(card.sign_certificate) != old_sign
    assert world.pki.record(new_sign).partition == "Osaka/Osaka-shi"
    assert world.pki.status(old_sign).reason == "affiliationChanged"
    assert world.registry.certificate(old_sign).revoked_reason == "basic_facts_changed"
    assert login(channel(card), world.kiosk, pin=persona.pins.auth).resolution.portal_symbol == (
        symbol
    )


def test_renewal_refuses_another_residents_card(world: World) -> None:
    persona = get_persona("yamada-taro")
    card, _ = issued_card(world, persona)
    before = card.auth_certificate
    with pytest.raises(IdentityMismatch):
        renew_on_card(
            channel(card),
            world.life,
            resident_code=get_persona("sato-hanako").resident_code,
            kinds=[KeyKind.AUTH],
            face_to_face_confirmed=True,
        )
    assert card.auth_certificate == before


# --- a renewal interrupted at every APDU ----------------------------------------------


def check_consistent(world: World, card: SoftwareCard, old: tuple[int, int]) -> bool:
    """Card and registry agree, the authority revoked exactly what is no longer on the
    card; returns whether the card holds the new certificates."""
    auth, sign = serial(card.auth_certificate), serial(card.sign_certificate)
    renewed = (auth, sign) != old
    assert (auth == old[0]) == (sign == old[1]), "the card mixes old and new certificates"
    issuer = auth_issuer(card)
    world.registry.resolve_login(auth, issuer)  # the card's serial logs in
    view = world.registry.certificate(sign)
    assert view.status == "active"
    for old_serial in old:
        assert (world.pki.status(old_serial).state == "revoked") == renewed
    for old_serial in old:
        for successor in world.pki.successors(old_serial):
            on_card = successor.serial in (auth, sign)
            assert (world.pki.status(successor.serial).state == "good") == on_card
    return renewed


def test_card_pulled_at_every_apdu_of_a_renewal_leaves_card_and_registry_consistent(
    world: World, tmp_path: Path
) -> None:
    persona = get_persona("yamada-taro")
    template, symbol = issued_card(world, persona)
    old = (serial(template.auth_certificate), serial(template.sign_certificate))
    snapshot_db = tmp_path / "snapshot.db"
    world.close()
    shutil.copyfile(tmp_path / "terminal.db", snapshot_db)
    snapshot_pki = tmp_path / "snapshot-pki"
    shutil.copytree(tmp_path / "pki", snapshot_pki)

    def attempt(index: int | None, after: bool) -> tuple[World, SoftwareCard, int]:
        run = tmp_path / f"run-{index}-{after}"
        shutil.copytree(snapshot_pki, run / "pki")
        shutil.copyfile(snapshot_db, run / "terminal.db")
        here = make_world(run / "pki", run / "terminal.db")
        card = template.copy()
        connection = SoftwareCardConnection(card)
        if index is not None:
            connection.pull_at(index, after_processing=after)
        link = CardChannel(connection)
        try:
            renew_on_card(
                link,
                here.life,
                resident_code=persona.resident_code,
                kinds=[KeyKind.AUTH, KeyKind.SIGN],
                face_to_face_confirmed=True,
            )
        except CardRemovedError:
            assert index is not None
        return here, card, link.apdu_count

    here, card, total = attempt(None, False)
    print(f"APDUs of the whole counter renewal: {total}")
    assert check_consistent(here, card, old)
    # Reading, reconciliation, issuer authentication, 2 GENERATE, 2 x (SELECT + UPDATE),
    # ACTIVATE: every one of them is a place to pull the card.
    assert total >= 15
    here.close()
    outcomes: dict[tuple[int, bool], bool] = {}
    for index in range(1, total + 1):
        for after in (False, True):
            here, card, _ = attempt(index, after)
            try:
                if (serial(card.auth_certificate), serial(card.sign_certificate)) != old:
                    # The card holds the new keys, the registry is still old: the new
                    # serial does not log in yet and the old key is gone from the card.
                    with pytest.raises(NotLinked):
                        here.registry.resolve_login(
                            serial(card.auth_certificate), auth_issuer(card)
                        )
                    assert card.public_key(KeyKind.AUTH).public_numbers() != (
                        template.public_key(KeyKind.AUTH).public_numbers()
                    )
                reconcile(channel(card), here.life)  # the card's next insertion
                outcomes[(index, after)] = check_consistent(here, card, old)
                resolution = here.registry.resolve_login(
                    serial(card.auth_certificate), auth_issuer(card)
                )
                assert resolution.portal_symbol == symbol
            finally:
                here.close()
    # ACTIVATE is the renewal's last APDU: pulled before it ran, old everywhere; pulled
    # once it ran (its answer lost), new everywhere after the reconciliation.
    assert len(outcomes) == 2 * total
    assert [key for key, renewed in outcomes.items() if renewed] == [(total, True)]


def test_unlock_a_sign_pin_keeping_it_and_reset_the_card_info_pin(world: World) -> None:
    persona = get_persona("sato-hanako")
    card = SoftwareCard.create(persona, world.pki)
    session = JpkiSession(channel(card))
    for _ in range(5):
        with pytest.raises((InvalidPinError, PinBlockedError)):
            session.verify_pin(PinKind.SIGN, "WRONG999", check_status_first=False)
    assert card.pin_remaining(PinKind.SIGN) == 0
    kept = reset_pin(
        channel(card),
        world.life,
        resident_code=persona.resident_code,
        kind=PinKind.SIGN,
        new_pin=None,
        face_to_face_confirmed=True,
    )
    assert kept.remaining == 5 and not kept.new_value
    JpkiSession(channel(card)).verify_pin(PinKind.SIGN, persona.pins.sign)  # the same PIN
    reset_pin(
        channel(card),
        world.life,
        resident_code=persona.resident_code,
        kind=PinKind.CARD_INFO,
        new_pin="6006",
        face_to_face_confirmed=True,
    )
    info = CardInfoSession(channel(card))
    with pytest.raises(InvalidPinError):
        info.verify_pin(persona.pins.cardinfo)
    info.verify_pin("6006")


def test_renewal_with_the_register_match_when_the_holder_gives_pins(world: World) -> None:
    persona = get_persona("yamada-taro")
    card, symbol = issued_card(world, persona)
    pins = CardPins(persona.pins.auth, persona.pins.sign)
    link = channel(card)
    wrong = dataclasses.replace(
        world.life,
        identity=RegisterIdentityBinding(link, world.counter, pins, world.life.authority),
    )
    old = card.auth_certificate
    with pytest.raises(IdentityMismatch):  # another resident: refused before any change
        renew_on_card(
            link,
            wrong,
            resident_code=get_persona("sato-hanako").resident_code,
            kinds=[KeyKind.AUTH],
            face_to_face_confirmed=True,
        )
    assert card.auth_certificate == old
    outcome = renew_on_card(
        link,
        wrong,
        resident_code=persona.resident_code,
        kinds=[KeyKind.AUTH],
        face_to_face_confirmed=True,
    )
    assert outcome.result.new_auth_serial == str(serial(card.auth_certificate))
    assert login(channel(card), world.kiosk, pin=persona.pins.auth).resolution.portal_symbol == (
        symbol
    )
    checks = [
        e for e in world.registry.audit.list(limit=1000) if e.operation == "counter.identity_check"
    ]
    assert checks, "the register match is audited"
