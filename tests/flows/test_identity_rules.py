"""The matching rules of docs/decisions.md (issue 10) where reality leaves room: a moved
holder whose sign certificate was revoked, a card whose card-info facts and signature
certificate disagree, and the edits of the register that follow a move."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from card.protocol import CardChannel
from jpki.validation import CertificateRevokedError
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.core.config import Agency, CoreConfig, token_sha256
from simulators.core.core import SymbolCore
from simulators.issuing import IssuedCertificates
from simulators.personas import Persona, get_persona
from simulators.pki import TestPki
from terminal.counter import CardPins, IdentityMismatch, IssuanceRequest, issuance
from terminal.db import open_store
from terminal.dev.core_client import InProcessCoreClient
from terminal.linkage import LinkageRegistry
from tests.flows.counter_world import counter_context

HANAKO = get_persona("sato-hanako")
NEW_ADDRESS = "大阪府大阪市北区梅田一丁目1番3号"


@dataclasses.dataclass
class Desk:
    pki: TestPki
    core: SymbolCore
    registry: LinkageRegistry
    counter: Any


@pytest.fixture
def desk(tmp_path: Path, pki_dir: Path) -> Iterator[Desk]:
    shutil.copytree(pki_dir, tmp_path / "pki")
    pki = TestPki.open(tmp_path / "pki")
    core = SymbolCore(
        CoreConfig(
            b"\x51" * 32,
            (Agency("portal", "portal"), Agency("city-27100", "city", resident_lookup=True)),
            {token_sha256("tok"): "city-27100"},
        )
    )
    store = open_store(f"sqlite:///{tmp_path / 'terminal.db'}")
    registry = LinkageRegistry(store)
    counter = counter_context(pki, registry, core=InProcessCoreClient(core, "tok"))
    yield Desk(pki, core, registry, counter)
    store.close()
    core.close()


class CertifiesAnotherPersona:
    """An issuer that certifies a card's keys for `certified` whatever persona the card
    is personalised for: the card-info applet then says one thing, the signature
    certificate another."""

    def __init__(self, pki: TestPki, certified: Persona) -> None:
        self.pki, self.certified = pki, certified

    def issue_card(
        self, persona: Persona, auth_public_key: RSAPublicKey, sign_public_key: RSAPublicKey
    ) -> IssuedCertificates:
        return self.pki.issue_card(self.certified, auth_public_key, sign_public_key)


def channel(card: SoftwareCard) -> CardChannel:
    return CardChannel(SoftwareCardConnection(card))


def request(pins: CardPins) -> IssuanceRequest:
    return IssuanceRequest(HANAKO.resident_code, pins, face_to_face_confirmed=True)


def test_moved_holder_with_a_revoked_sign_certificate(desk: Desk) -> None:
    card = SoftwareCard.create(HANAKO, desk.pki)
    sign_serial = x509.load_der_x509_certificate(card.sign_certificate).serial_number
    desk.pki.revoke(sign_serial, "move")
    # With the sign PIN the revoked certificate is read and refused (hard-fail).
    with pytest.raises(CertificateRevokedError):
        issuance.issue(
            channel(card), desk.counter, request(CardPins(HANAKO.pins.auth, HANAKO.pins.sign))
        )
    # Bound through the card-info applet alone (its facts are what the card says now).
    bound = issuance.issue(
        channel(card),
        desk.counter,
        request(CardPins(HANAKO.pins.auth, cardinfo=HANAKO.pins.cardinfo)),
    )
    assert bound.result.sign_serial is None  # the revoked certificate is not linked


def test_card_info_and_sign_certificate_that_disagree_are_refused(desk: Desk) -> None:
    # Moved: the register and the card-info applet have the new address, the signature
    # certificate still the old one (not yet revoked).
    moved = dataclasses.replace(HANAKO, address=NEW_ADDRESS)
    desk.core.register.update(HANAKO.resident_code, address=NEW_ADDRESS)
    card = SoftwareCard.create(moved, CertifiesAnotherPersona(desk.pki, HANAKO))  # type: ignore[arg-type]
    pins = CardPins(HANAKO.pins.auth, HANAKO.pins.sign, HANAKO.pins.cardinfo)
    with pytest.raises(IdentityMismatch) as refused:
        issuance.issue(channel(card), desk.counter, request(pins))
    assert refused.value.mismatched == ("address",)  # the field, never its value
    # The card-info applet alone matches the register: that is the counter's course
    # once the sign certificate is revoked for the move (docs/decisions.md).
    preview = issuance.preview(
        channel(card),
        desk.counter,
        HANAKO.resident_code,
        CardPins(HANAKO.pins.auth, cardinfo=HANAKO.pins.cardinfo),
    )
    assert preview[1].matches
    # Before the register learns of the move, the moved card-info facts mismatch.
    desk.core.register.update(HANAKO.resident_code, address=HANAKO.address)
    with pytest.raises(IdentityMismatch):
        issuance.issue(
            channel(card),
            desk.counter,
            request(CardPins(HANAKO.pins.auth, cardinfo=HANAKO.pins.cardinfo)),
        )
    assert desk.registry.audit.list(limit=100)  # every check left a record
