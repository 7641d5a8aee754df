"""Registry behaviour on both backends: issuance, renewal, revocation, login, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from linkage_helpers import AUTH_CA_KID, OPERATOR, SIGN_CA_KID, cert

from simulators.personas import Persona
from terminal.db.engine import Store
from terminal.dev.core_client import InProcessCoreClient
from terminal.linkage import (
    ActiveCardExists,
    AlreadyRenewed,
    AmbiguousSerial,
    CertExpired,
    CertInfo,
    CertRevoked,
    ChainLoop,
    InvalidCertInfo,
    InvalidRequest,
    LinkageRegistry,
    LinkConflict,
    NotLinked,
    PersonRef,
    RevocationReason,
    SymbolConflict,
    UnknownPerson,
    UnknownSerial,
)
from terminal.linkage.core_client import symbols_for_issuance
from terminal.linkage.errors import MyNumberIndexMissing
from tests.conftest import REAL_JPKI_DIR


def _symbols(core_client: InProcessCoreClient, persona: Persona) -> dict[str, str]:
    return symbols_for_issuance(core_client, persona.resident_code)


def test_issue_then_login_resolves_to_portal_symbol(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    taro = personas[0]
    symbols = _symbols(core_client, taro)
    result = registry.issue(PersonRef(), cert(1001), cert(2001, SIGN_CA_KID), symbols, OPERATOR)
    assert result.person_created and not result.replayed
    assert len(result.integrated_number) == 15
    login = registry.resolve_login(1001, AUTH_CA_KID)
    assert login.portal_symbol == symbols["portal"]
    assert login.integrated_number == result.integrated_number
    person = registry.person(result.integrated_number)
    assert person.symbols == symbols
    assert {c.serial for c in person.certificates} == {"1001", "2001"}
    assert {c.card_id for c in person.certificates} == {result.card_id}  # paired


def test_renewal_keeps_portal_symbol_and_refuses_old_serial(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    symbols = _symbols(core_client, personas[1])
    issued = registry.issue(PersonRef(), cert(11), cert(21, SIGN_CA_KID), symbols, OPERATOR)
    renewed = registry.renew(11, cert(12), cert(22, SIGN_CA_KID), OPERATOR)
    assert renewed.integrated_number == issued.integrated_number
    assert (renewed.old_sign_serial, renewed.new_sign_serial) == ("21", "22")
    assert registry.resolve_login(12, AUTH_CA_KID).portal_symbol == symbols["portal"]
    with pytest.raises(CertRevoked) as refused:
        registry.resolve_login(11, AUTH_CA_KID)
    assert refused.value.code == "CERT_REVOKED"
    assert refused.value.status == "superseded" and refused.value.reason == "renewal"
    # Lookups follow the chain forward, per kind.
    assert registry.current_certificate(11, issuer_key_id=AUTH_CA_KID).serial == "12"
    assert registry.current_certificate(21, issuer_key_id=SIGN_CA_KID).serial == "22"
    renewed_again = registry.renew(12, cert(13), cert(23, SIGN_CA_KID), OPERATOR)
    chain = registry.chain(12, issuer_key_id=AUTH_CA_KID)
    assert [c.serial for c in chain] == ["11", "12", "13"]
    assert [c.status for c in chain] == ["superseded", "superseded", "active"]
    assert chain[1].replaces_serial == "11" and chain[1].replaced_by_serial == "13"
    assert renewed_again.card_id not in (issued.card_id, renewed.card_id)


def test_renewal_is_idempotent_and_refuses_a_second_different_one(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    registry.issue(PersonRef(), cert(31), None, _symbols(core_client, personas[2]), OPERATOR)
    first = registry.renew(31, cert(32), None, OPERATOR)
    again = registry.renew(31, cert(32), None, OPERATOR)
    assert again.replayed and again.card_id == first.card_id
    with pytest.raises(AlreadyRenewed):
        registry.renew(31, cert(33), None, OPERATOR)


def test_move_revokes_sign_only_and_auth_still_resolves(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    symbols = _symbols(core_client, personas[3])
    registry.issue(PersonRef(), cert(41), cert(42, SIGN_CA_KID), symbols, OPERATOR)
    result = registry.revoke(42, RevocationReason.BASIC_FACTS_CHANGED, OPERATOR)
    assert result.revoked == ("42",) and result.already == ()
    assert registry.resolve_login(41, AUTH_CA_KID).portal_symbol == symbols["portal"]
    view = registry.certificate(42)
    assert view.status == "revoked" and view.revoked_reason == "basic_facts_changed"
    assert view.revoked_at is not None


def test_loss_revokes_the_whole_card_then_a_new_card_links_the_same_person(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    symbols = _symbols(core_client, personas[4])
    first = registry.issue(PersonRef(), cert(51), cert(52, SIGN_CA_KID), symbols, OPERATOR)
    with pytest.raises(ActiveCardExists):
        registry.issue(PersonRef(), cert(53), cert(54, SIGN_CA_KID), symbols, OPERATOR)
    result = registry.revoke(51, "loss", OPERATOR)
    assert set(result.revoked) == {"51", "52"}
    again = registry.revoke(52, "loss", OPERATOR)
    assert again.revoked == () and set(again.already) == {"51", "52"}
    with pytest.raises(CertRevoked):
        registry.resolve_login(51, AUTH_CA_KID)
    second = registry.issue(PersonRef(), cert(53), cert(54, SIGN_CA_KID), symbols, OPERATOR)
    assert not second.person_created
    assert second.integrated_number == first.integrated_number
    assert registry.resolve_login(53, AUTH_CA_KID).portal_symbol == symbols["portal"]


def test_serial_linked_twice_is_a_conflict_unless_the_same_request_is_replayed(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    taro, hanako = personas[0], personas[1]
    first = registry.issue(
        PersonRef(),
        cert(61),
        cert(62, SIGN_CA_KID),
        _symbols(core_client, taro),
        OPERATOR,
        request_id="req-1",
    )
    replay = registry.issue(
        PersonRef(),
        cert(61),
        cert(62, SIGN_CA_KID),
        _symbols(core_client, taro),
        OPERATOR,
        request_id="req-1",
    )
    assert replay.replayed and replay.card_id == first.card_id
    with pytest.raises(LinkConflict) as other_person:
        registry.issue(PersonRef(), cert(61), None, _symbols(core_client, hanako), OPERATOR)
    assert other_person.value.code == "LINK_CONFLICT"
    with pytest.raises(LinkConflict):  # same card again, another request: one link only
        registry.issue(
            PersonRef(),
            cert(61),
            cert(62, SIGN_CA_KID),
            _symbols(core_client, taro),
            OPERATOR,
            request_id="req-2",
        )
    with pytest.raises(LinkConflict):  # request id re-used for a different card
        registry.issue(
            PersonRef(), cert(63), None, _symbols(core_client, hanako), OPERATOR, request_id="req-1"
        )
    # Nothing of the refused attempts was written: hanako is unknown to the registry.
    assert len(registry.person(first.integrated_number).certificates) == 2
    with pytest.raises(NotLinked):
        registry.resolve_login(63, AUTH_CA_KID)


def test_chain_loop_is_refused(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    registry.issue(PersonRef(), cert(71), None, _symbols(core_client, personas[0]), OPERATOR)
    with pytest.raises(ChainLoop) as same:
        registry.renew(71, cert(71), None, OPERATOR)
    assert same.value.code == "CHAIN_LOOP"
    registry.renew(71, cert(72), None, OPERATOR)
    with pytest.raises(ChainLoop):  # back to an ancestor
        registry.renew(72, cert(71), None, OPERATOR)
    assert registry.resolve_login(72, AUTH_CA_KID)  # the refused renewals changed nothing


def test_unknown_and_ambiguous_serials(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    with pytest.raises(UnknownSerial) as unknown:
        registry.renew(999, cert(1000), None, OPERATOR)
    assert unknown.value.code == "UNKNOWN_SERIAL"
    with pytest.raises(UnknownSerial):
        registry.revoke(999, "loss", OPERATOR)
    # The two CAs number independently: serial 81 under both issuers.
    registry.issue(
        PersonRef(), cert(81), cert(81, SIGN_CA_KID), _symbols(core_client, personas[1]), OPERATOR
    )
    with pytest.raises(AmbiguousSerial):
        registry.revoke(81, RevocationReason.BASIC_FACTS_CHANGED, OPERATOR)
    registry.revoke(81, RevocationReason.BASIC_FACTS_CHANGED, OPERATOR, issuer_key_id=SIGN_CA_KID)
    assert registry.resolve_login(81, AUTH_CA_KID)


def test_login_refusals(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    registry.issue(
        PersonRef(), cert(91), cert(92, SIGN_CA_KID), _symbols(core_client, personas[2]), OPERATOR
    )
    with pytest.raises(NotLinked):
        registry.resolve_login(12345, AUTH_CA_KID)
    with pytest.raises(NotLinked):  # a signature certificate does not log in
        registry.resolve_login(92, SIGN_CA_KID)
    with pytest.raises(NotLinked):  # right serial, wrong issuer
        registry.resolve_login(91, SIGN_CA_KID)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=6 * 365)
    with pytest.raises(CertExpired):
        registry.resolve_login(91, AUTH_CA_KID, now=later)


def test_symbols_are_checked(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    taro, hanako = personas[0], personas[1]
    taro_symbols = symbols_for_issuance(core_client, taro.resident_code)
    with pytest.raises(InvalidRequest):  # no portal symbol
        registry.issue(PersonRef(), cert(101), None, {"tax": taro_symbols["portal"]}, OPERATOR)
    first = registry.issue(PersonRef(), cert(102), None, taro_symbols, OPERATOR)
    mixed = dict(_symbols(core_client, hanako))
    mixed["city-13101"] = taro_symbols["city-13101"]
    with pytest.raises(SymbolConflict):  # hanako's card with taro's municipal symbol
        registry.issue(PersonRef(), cert(104), None, mixed, OPERATOR)
    with pytest.raises(SymbolConflict):  # known person, someone else's portal symbol
        registry.issue(
            PersonRef(first.integrated_number),
            cert(105),
            None,
            _symbols(core_client, hanako),
            OPERATOR,
        )
    with pytest.raises(UnknownPerson):
        registry.issue(
            PersonRef("100000000000000"), cert(106), None, _symbols(core_client, hanako), OPERATOR
        )


def test_mynumber_is_found_through_its_keyed_hash_only(
    registry: LinkageRegistry,
    store: Store,
    core_client: InProcessCoreClient,
    personas: list[Persona],
) -> None:
    taro, hanako = personas[0], personas[1]
    issued = registry.issue(
        PersonRef(my_number=taro.my_number), cert(111), None, _symbols(core_client, taro), OPERATOR
    )
    found = registry.person_by_mynumber(taro.my_number, OPERATOR)
    assert found.integrated_number == issued.integrated_number and found.has_mynumber_index
    with pytest.raises(UnknownPerson):
        registry.person_by_mynumber(hanako.my_number, OPERATOR)
    with pytest.raises(LinkConflict):  # taro's number on hanako's card
        registry.issue(
            PersonRef(my_number=taro.my_number),
            cert(112),
            None,
            _symbols(core_client, hanako),
            OPERATOR,
        )
    lookups = [e for e in registry.audit.list() if e.operation == "linkage.mynumber_lookup"]
    assert [e.result for e in lookups] == ["ok", "not_found"]
    no_index = LinkageRegistry(store)
    with pytest.raises(MyNumberIndexMissing):
        no_index.issue(
            PersonRef(my_number=hanako.my_number),
            cert(113),
            None,
            _symbols(core_client, hanako),
            OPERATOR,
        )


def test_twenty_byte_serials(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    biggest = 2**160 - 1
    registry.issue(PersonRef(), cert(biggest), None, _symbols(core_client, personas[5]), OPERATOR)
    assert registry.resolve_login(str(biggest), AUTH_CA_KID).serial == str(biggest)
    assert registry.resolve_login(hex(biggest), AUTH_CA_KID.upper())
    with pytest.raises(InvalidCertInfo):
        cert(2**160)
    with pytest.raises(InvalidCertInfo):
        cert(0)
    with pytest.raises(InvalidCertInfo):
        CertInfo(5, "not-hex", dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC))
    with pytest.raises(InvalidCertInfo):  # naive datetimes are refused
        CertInfo(5, AUTH_CA_KID, dt.datetime(2024, 1, 1), dt.datetime(2029, 1, 1))


def test_refusals_are_audited_and_successes_carry_the_person(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    issued = registry.issue(
        PersonRef(), cert(121), None, _symbols(core_client, personas[0]), OPERATOR
    )
    with pytest.raises(LinkConflict):
        registry.issue(PersonRef(), cert(121), None, _symbols(core_client, personas[1]), OPERATOR)
    registry.resolve_login(121, AUTH_CA_KID, operator=OPERATOR)
    with pytest.raises(NotLinked):
        registry.resolve_login(122, AUTH_CA_KID, operator=OPERATOR)
    entries = registry.audit.list()
    summary = [(e.operation, e.subject_kind, e.result) for e in entries]
    assert summary == [
        ("linkage.issue", "person", "ok"),
        ("linkage.issue", "certificate", "refused:LINK_CONFLICT"),
        ("linkage.login_resolve", "certificate", "ok"),
        ("linkage.login_resolve", "certificate", "refused:NOT_LINKED"),
    ]
    assert entries[0].subject_ref == issued.integrated_number
    assert entries[0].operator_id == "officer-7" and entries[0].terminal_id == "counter-01"
    assert registry.audit.verify().ok


REAL_AUTH_CERT = REAL_JPKI_DIR / "auth_real.pem"


def test_real_jlis_auth_certificate_links_and_resolves(
    registry: LinkageRegistry, core_client: InProcessCoreClient, personas: list[Persona]
) -> None:
    from asn1crypto import pem

    # The real certificate is part of the project's shared data, as in the other suites
    # that use it (tests/simulators, tests/jpki): missing data fails, never skips.
    assert REAL_AUTH_CERT.exists(), f"test data missing: {REAL_AUTH_CERT}"
    _, _, der = pem.unarmor(REAL_AUTH_CERT.read_bytes())
    info = CertInfo.from_der(der)
    assert info.serial == 0x012D57CA
    assert info.issuer_key_id == "9567951b5ca70d84a0fff1d85a87f1aab1340385"
    assert info.not_before == dt.datetime(2019, 7, 25, 15, 28, 6, tzinfo=dt.UTC)
    assert info.not_after == dt.datetime(2024, 5, 2, 14, 59, 59, tzinfo=dt.UTC)
    symbols = _symbols(core_client, personas[6])
    registry.issue(PersonRef(), info, None, symbols, OPERATOR)
    during = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    assert (
        registry.resolve_login(info.serial, info.issuer_key_id, now=during).portal_symbol
        == symbols["portal"]
    )
    with pytest.raises(CertExpired):
        registry.resolve_login(info.serial, info.issuer_key_id)  # today: expired in 2024
    with pytest.raises(InvalidCertInfo):
        CertInfo.from_der(der[:100])
