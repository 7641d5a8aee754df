"""Test PKI: CA generations and card certificates shaped like the real J-LIS ones."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from jpki.constants import (
    OID_AUTH_POLICY,
    OID_SAN_ADDRESS,
    OID_SAN_ADDRESS_SUBSTITUTE,
    OID_SAN_BIRTH_DATE,
    OID_SAN_NAME,
    OID_SAN_NAME_SUBSTITUTE,
    OID_SAN_SEX,
    OID_SIGN_POLICY,
)
from simulators.issuing import CardIssuer
from simulators.personas import get_persona
from simulators.pki import (
    InvalidBaseUrlError,
    IssuanceError,
    PkiStateError,
    TestPki,
    UnknownGenerationError,
    UnknownKindError,
)
from simulators.pki.validity import JST, card_certificate_not_after, nth_birthday_after
from tests.simulators.test_pki_support import (
    REAL_DIR,
    card_key,
    clean_pki_dir,
    copy_pki,
    issue,
    openssl,
    pki,
    utc,
    write_pem,
)

__all__ = ["clean_pki_dir", "pki"]  # the fixture, imported for its side effect on pytest


def _real(name: str) -> x509.Certificate:
    path = REAL_DIR / name
    if not path.exists():
        pytest.fail(f"real JPKI certificate {path} is missing (tests/jpki/data)")
    return x509.load_pem_x509_certificate(path.read_bytes())


def _extension_shape(cert: x509.Certificate) -> list[tuple[str, bool]]:
    return [(ext.oid.dotted_string, ext.critical) for ext in cert.extensions]


def _name_encoding(name_der: bytes) -> list[tuple[str, str]]:
    """(attribute, ASN.1 string type) per RDN, in encoded order."""
    name = asn1_x509.Name.load(name_der)
    return [
        (atv["type"].native, type(atv["value"].chosen).__name__)
        for rdn in name.chosen
        for atv in rdn
    ]


# -- the CAs ---------------------------------------------------------------------------


def test_each_ca_has_two_generations_with_one_dn_and_different_keys(pki: TestPki) -> None:
    for kind in ("auth", "sign"):
        generations = pki.generations(kind)
        assert len(generations) >= 2
        subjects = {g.certificate.subject for g in generations}
        assert len(subjects) == 1
        keys = {
            g.certificate.public_key().public_bytes(Encoding.DER, PublicFormat.PKCS1)
            for g in generations
        }
        assert len(keys) == len(generations)
        assert pki.generation(kind) is generations[-1]  # the newest issues new cards
        anchors = pki.trust_anchors(kind)
        assert anchors == [g.der for g in generations]
        assert pki.ca_certificate(kind) == anchors[-1]
        assert pki.ca_certificate(kind, generations[0].name) == anchors[0]
    assert pki.generation("auth").certificate.subject != pki.generation("sign").certificate.subject


def test_ca_certificates_match_the_real_ca_structure(pki: TestPki) -> None:
    real = _real("auth_ca_2023.pem")
    for kind in ("auth", "sign"):
        for generation in pki.generations(kind):
            cert = generation.certificate
            assert _extension_shape(cert) == _extension_shape(real)
            assert cert.issuer == cert.subject
            assert _name_encoding(cert.subject.public_bytes()) == _name_encoding(
                real.subject.public_bytes()
            )
            key = cert.public_key()
            assert isinstance(key, rsa.RSAPublicKey)
            assert key.key_size == 2048
            assert key.public_numbers().e == 65537
            # Real CA certificates end at 23:59:59 JST.
            assert cert.not_valid_after_utc.astimezone(JST).time() == dt.time(23, 59, 59)
            ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
            assert ku.key_cert_sign and ku.crl_sign and not ku.digital_signature


def test_ca_generations_verify_with_openssl_and_the_older_one_is_still_valid(
    pki: TestPki, tmp_path: Path
) -> None:
    for kind in ("auth", "sign"):
        for generation in pki.generations(kind):
            ca = write_pem(tmp_path / f"{kind}-{generation.name}.pem", generation.certificate)
            result = openssl("verify", "-CAfile", ca, ca)
            assert result.returncode == 0, result.stdout + result.stderr


def test_responder_certificates_are_delegated_per_generation(pki: TestPki) -> None:
    for kind in ("auth", "sign"):
        for generation in pki.generations(kind):
            responder = x509.load_der_x509_certificate(
                pki.ocsp_responder_certificate(kind, generation.name)
            )
            assert responder.issuer == generation.certificate.subject
            responder.verify_directly_issued_by(generation.certificate)
            eku = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            assert list(eku) == [ExtendedKeyUsageOID.OCSP_SIGNING]
            responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
            aki = responder.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
            ski = generation.certificate.extensions.get_extension_for_class(
                x509.SubjectKeyIdentifier
            )
            assert aki.value.key_identifier == ski.value.digest


# -- card certificates -------------------------------------------------------------------


def test_auth_certificate_has_the_real_extension_set_and_criticality(pki: TestPki) -> None:
    auth, _ = issue(pki)
    real = _real("auth_real.pem")
    assert _extension_shape(auth) == _extension_shape(real)
    assert _name_encoding(auth.subject.public_bytes()) == _name_encoding(
        real.subject.public_bytes()
    )
    assert _name_encoding(auth.issuer.public_bytes()) == _name_encoding(real.issuer.public_bytes())


def test_auth_certificate_content(pki: TestPki) -> None:
    persona = get_persona("yamada-taro")
    auth, _ = issue(pki, persona.id)
    ext = auth.extensions
    (cn,) = auth.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert len(str(cn.value)) == 23 and str(cn.value).isalnum()
    assert [a.oid for a in auth.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    ku = ext.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.content_commitment and not ku.key_cert_sign
    assert list(ext.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    (policy,) = ext.get_extension_for_class(x509.CertificatePolicies).value
    assert policy.policy_identifier.dotted_string == OID_AUTH_POLICY
    assert policy.policy_qualifiers == [pki.cps_url()]  # a CPS URI qualifier, like J-LIS
    (ian,) = ext.get_extension_for_class(x509.IssuerAlternativeName).value
    assert isinstance(ian, x509.DirectoryName)
    assert ian.value.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "公的個人認証サービス"
    )
    assert ian.value.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == (
        "公的個人認証サービス利用者証明用"
    )
    assert {t for _, t in _name_encoding(ian.value.public_bytes())} == {
        "PrintableString",
        "UTF8String",
    }
    dps = list(ext.get_extension_for_class(x509.CRLDistributionPoints).value)
    assert len(dps) == 2
    (dirname,) = dps[0].full_name
    assert dirname.value.rfc4514_string() == (
        "CN=Chiyoda-ku CRLDP,OU=Tokyo,OU=CRL Distribution Points,"
        "OU=JPKI for user authentication,O=JPKI,C=JP"
    )
    (url,) = dps[1].full_name
    assert url.value == pki.crl_url("auth", "Tokyo/Chiyoda-ku")
    (aia,) = ext.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert aia.access_method == AuthorityInformationAccessOID.OCSP
    assert aia.access_location.value == pki.ocsp_url("auth")
    key = auth.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.public_numbers() == card_key(0).public_key().public_numbers()


def test_real_auth_certificate_crl_dp_has_the_same_directory_name_shape(pki: TestPki) -> None:
    auth, _ = issue(pki)
    real = _real("auth_real.pem")

    def dp_shape(cert: x509.Certificate) -> list[tuple[str, str]]:
        dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value[0]
        return _name_encoding(dp.full_name[0].value.public_bytes())

    assert dp_shape(auth) == dp_shape(real)


def test_sign_certificate_content_and_basic_four_in_other_names(pki: TestPki) -> None:
    persona = get_persona("takahashi-kenichi")
    _, sign = issue(pki, persona.id)
    assert [(a.oid, a.value) for a in sign.subject][:3] == [
        (NameOID.COUNTRY_NAME, "JP"),
        (NameOID.LOCALITY_NAME, persona.prefecture),
        (NameOID.LOCALITY_NAME, persona.city),
    ]
    assert sign.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    ext = sign.extensions
    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    policies = ext.get_extension_for_class(x509.CertificatePolicies)
    assert policies.critical
    assert policies.value[0].policy_identifier.dotted_string == OID_SIGN_POLICY
    with pytest.raises(x509.ExtensionNotFound):
        ext.get_extension_for_class(x509.ExtendedKeyUsage)
    # Decode the otherName values independently of how they were built.
    san = asn1_x509.Certificate.load(sign.public_bytes(Encoding.DER)).subject_alt_name_value
    values = {}
    for general_name in san:
        assert general_name.name == "other_name"
        other = general_name.chosen
        inner = other["value"].parsed  # [0] EXPLICIT -> the inner value
        assert isinstance(inner, core.UTF8String)
        values[other["type_id"].dotted] = inner.native
    assert values == {
        OID_SAN_NAME: persona.name,
        OID_SAN_NAME_SUBSTITUTE: persona.name.replace("髙", "高"),
        OID_SAN_SEX: persona.sex,
        OID_SAN_BIRTH_DATE: persona.birth_date.strftime("%Y%m%d"),
        OID_SAN_ADDRESS: persona.address,
        OID_SAN_ADDRESS_SUBSTITUTE: persona.address,
    }
    assert values[OID_SAN_NAME] != values[OID_SAN_NAME_SUBSTITUTE]  # 髙 has a substitute
    dps = list(ext.get_extension_for_class(x509.CRLDistributionPoints).value)
    assert dps[0].full_name[0].value.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[
        0
    ].value == ("JPKI for digital signature")
    assert dps[1].full_name[0].value == pki.crl_url(
        "sign", f"{persona.prefecture_en}/{persona.city_en}"
    )


def test_aki_and_ski_tie_each_card_certificate_to_its_generation(
    pki: TestPki, tmp_path: Path
) -> None:
    older = pki.generations("auth")[0]
    current = pki.generation("auth")
    new_auth, _ = issue(pki)
    old_auth, old_sign = issue(pki, generation=older.name)
    for cert, generation in ((new_auth, current), (old_auth, older)):
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        ca_ski = generation.certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value
        assert aki.key_identifier == ca_ski.digest
        assert aki.authority_cert_serial_number == generation.certificate.serial_number
        assert aki.authority_cert_issuer == [x509.DirectoryName(generation.certificate.issuer)]
        cert.verify_directly_issued_by(generation.certificate)
        other = older if generation is current else current
        with pytest.raises(InvalidSignature):
            cert.verify_directly_issued_by(other.certificate)
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    # openssl picks the right one among same-DN anchors, like with the real 2015/2023 CAs.
    anchors = write_pem(tmp_path / "anchors.pem", *pki.trust_anchors("auth"))
    for cert in (new_auth, old_auth):
        result = openssl("verify", "-CAfile", anchors, write_pem(tmp_path / "ee.pem", cert))
        assert result.returncode == 0, result.stdout + result.stderr
    only_current = write_pem(tmp_path / "current.pem", current.certificate)
    result = openssl("verify", "-CAfile", only_current, write_pem(tmp_path / "old.pem", old_auth))
    assert result.returncode != 0
    assert old_sign.issuer == pki.generation("sign").certificate.subject


def test_validity_runs_from_issuance_to_the_fifth_birthday_end_of_day_jst(pki: TestPki) -> None:
    persona = get_persona("yamada-taro")  # born 1985-04-12
    issued_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    auth, sign = issue(pki, persona.id, now=issued_at)
    for cert in (auth, sign):
        assert cert.not_valid_before_utc == issued_at
        end = cert.not_valid_after_utc.astimezone(JST)
        assert (end.month, end.day, end.time()) == (4, 12, dt.time(23, 59, 59))
        birthdays_between = sum(
            1
            for year in range(issued_at.year, end.year + 1)
            if issued_at.astimezone(JST).date() < dt.date(year, 4, 12) <= end.date()
        )
        assert birthdays_between == 5


@pytest.mark.parametrize(
    ("issued_on", "birth", "expected"),
    [
        # The real certificate: issued 2019-07-25, holder's birthday 2 May -> 2024-05-02.
        (dt.date(2019, 7, 25), dt.date(1980, 5, 2), dt.date(2024, 5, 2)),
        # Issued on the birthday itself: that day's birthday does not count.
        (dt.date(2026, 4, 12), dt.date(1985, 4, 12), dt.date(2031, 4, 12)),
        (dt.date(2026, 4, 11), dt.date(1985, 4, 12), dt.date(2030, 4, 12)),
        # 29 February: 28 February in common years, 29 February in leap years.
        (dt.date(2026, 3, 1), dt.date(2000, 2, 29), dt.date(2031, 2, 28)),
        (dt.date(2027, 3, 1), dt.date(2000, 2, 29), dt.date(2032, 2, 29)),
        (dt.date(2024, 2, 29), dt.date(2000, 2, 29), dt.date(2029, 2, 28)),
    ],
)
def test_fifth_birthday_after_issuance(
    issued_on: dt.date, birth: dt.date, expected: dt.date
) -> None:
    assert nth_birthday_after(issued_on, birth, 5) == expected


def test_issuance_day_is_counted_in_japan_time() -> None:
    # 2026-04-11 16:00 UTC is already 12 April in Japan: the birthday that day does not count.
    end = card_certificate_not_after(utc(2026, 4, 11, 16, 0), dt.date(1985, 4, 12))
    assert end == utc(2031, 4, 12, 14, 59, 59)
    end = card_certificate_not_after(utc(2026, 4, 11, 14, 0), dt.date(1985, 4, 12))
    assert end == utc(2030, 4, 12, 14, 59, 59)


def test_serials_and_subject_ids_are_unique_and_recorded_per_card(pki: TestPki) -> None:
    persona = get_persona("sato-hanako")
    cards = [issue(pki, persona.id) for _ in range(3)]
    serials = [c.serial_number for pair in cards for c in pair]
    assert len(set(serials)) == 6
    assert all(0 < s < 2**63 for s in serials)
    ids = [c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value for p in cards for c in p]
    assert len(set(ids)) == 6
    reopened = TestPki.open(pki.directory)
    for index, (auth, sign) in enumerate(cards):
        record = reopened.record(auth.serial_number)
        assert (record.kind, record.role, record.persona_id) == ("auth", "card", persona.id)
        assert record.partition == "Osaka/Osaka-shi"
        assert record.not_after == auth.not_valid_after_utc
        assert record.der == auth.public_bytes(Encoding.DER)
        assert reopened.paired_serial(auth.serial_number) == sign.serial_number
        assert reopened.paired_serial(sign.serial_number) == auth.serial_number
        expected_previous = None if index == 0 else cards[index - 1]
        assert reopened.previous_serial(auth.serial_number) == (
            None if expected_previous is None else expected_previous[0].serial_number
        )
        assert reopened.previous_serial(sign.serial_number) == (
            None if expected_previous is None else expected_previous[1].serial_number
        )
    assert {r.serial for r in reopened.issued("sign")} >= {p[1].serial_number for p in cards}
    assert "Osaka/Osaka-shi" in reopened.partitions("auth")


def test_test_pki_is_a_card_issuer(pki: TestPki) -> None:
    issuer: CardIssuer = pki
    issued = issuer.issue_card(
        get_persona("suzuki-aoi"), card_key(0).public_key(), card_key(1).public_key()
    )
    assert issued.auth_ca_cert == pki.ca_certificate("auth")
    assert issued.sign_ca_cert == pki.ca_certificate("sign")


def test_bad_keys_and_names_are_typed_errors(pki: TestPki) -> None:
    persona = get_persona("yamada-taro")
    before = len(pki.issued())
    small = rsa.generate_private_key(65537, 1024).public_key()  # noqa: S505 - the point
    with pytest.raises(IssuanceError, match="RSA-2048"):
        pki.issue_card(persona, small, card_key(1).public_key())
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(IssuanceError):
        pki.issue_card(persona, card_key(0).public_key(), ec_key)  # type: ignore[arg-type]
    from dataclasses import replace

    with pytest.raises(IssuanceError, match="partition"):
        pki.issue_card(
            replace(persona, city_en="Chiyoda/ku"),
            card_key(0).public_key(),
            card_key(1).public_key(),
        )
    with pytest.raises(UnknownGenerationError):
        pki.issue_card(
            persona, card_key(0).public_key(), card_key(1).public_key(), generation="1999"
        )
    with pytest.raises(UnknownKindError):
        pki.ca_certificate("root")
    assert len(pki.issued()) == before  # nothing half-recorded


def test_state_persists_and_keys_are_private(pki: TestPki, tmp_path: Path) -> None:
    auth, _ = issue(pki)
    key_files = sorted((pki.directory / "keys").iterdir())
    # 2 kinds x 2 generations + one responder key per kind + the issuer's admin key
    # (made on the first issuance: cards keep its public half, see admin_protocol).
    assert len(key_files) == 7
    for key_file in key_files:
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert b"PRIVATE KEY" in key_file.read_bytes()
    copy = copy_pki(pki.directory, tmp_path / "again")
    assert copy.record(auth.serial_number).der == auth.public_bytes(Encoding.DER)
    assert copy.trust_anchors("auth") == pki.trust_anchors("auth")
    assert TestPki.open_or_create(pki.directory).base_url == pki.base_url


def test_open_reports_missing_or_broken_state(tmp_path: Path, pki: TestPki) -> None:
    with pytest.raises(PkiStateError, match="no test PKI"):
        TestPki.open(tmp_path / "nothing")
    broken = copy_pki(pki.directory, tmp_path / "broken").directory
    (broken / "keys" / "ocsp-auth.key.pem").unlink()
    with pytest.raises(PkiStateError, match="incomplete"):
        TestPki.open(broken)
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "state.sqlite").write_bytes(b"not a database at all" * 10)
    with pytest.raises(PkiStateError):
        TestPki.open(garbage)
    with pytest.raises(InvalidBaseUrlError, match="base URL"):
        pki.set_base_url("ftp://example/")
    with pytest.raises(InvalidBaseUrlError, match="path"):
        pki.set_base_url("http://127.0.0.1:9/prefix")
    with pytest.raises(InvalidBaseUrlError):
        pki.set_base_url("http://127.0.0.1:99999")
    with pytest.raises(InvalidBaseUrlError):
        TestPki.create(tmp_path / "never", base_url="127.0.0.1:8790")
    assert not (tmp_path / "never").exists()


def test_creating_a_pki_is_quick_and_dated_by_the_injected_clock(tmp_path: Path) -> None:
    created = utc(2030, 6, 1, 3, 0, 0)
    pki = TestPki.open_or_create(tmp_path / "new", now=created, base_url="http://127.0.0.1:9")
    assert [g.name for g in pki.generations("auth")] == ["2025", "2030"]
    older, current = pki.generations("sign")
    assert older.certificate.not_valid_before_utc == utc(2025, 6, 1, 3, 0, 0)
    assert current.certificate.not_valid_before_utc <= created
    assert older.certificate.not_valid_after_utc > created  # still a valid anchor
    assert pki.base_url == "http://127.0.0.1:9"
    assert pki.ocsp_url("sign") == "http://127.0.0.1:9/ocsp/sign"
    with pytest.raises(PkiStateError, match="already exists"):
        TestPki.create(tmp_path / "new")


def test_a_holder_under_15_gets_no_signature_certificate(pki: TestPki) -> None:
    from card.apdu import CommandApdu
    from jpki.constants import Aid, JpkiFile
    from simulators.card.software_card import SoftwareCard

    minor = get_persona("nakamura-hinata")
    assert not minor.sign_certificate
    issued = pki.issue_card(minor, card_key(0).public_key(), card_key(1).public_key())
    assert issued.sign_cert is None and issued.sign_ca_cert == pki.ca_certificate("sign")
    assert {r.persona_id for r in pki.issued("sign")}.isdisjoint({minor.id})
    card = SoftwareCard.create(minor, pki)
    card.power_on()
    select_jpki = CommandApdu(0x00, 0xA4, 0x04, 0x0C, Aid.JPKI.value).encode()
    assert card.process(select_jpki)[-2:] == b"\x90\x00"
    select_sign_cert = CommandApdu(
        0x00, 0xA4, 0x02, 0x0C, JpkiFile.SIGN_CERT.to_bytes(2, "big")
    ).encode()
    assert card.process(select_sign_cert)[-2:] == b"\x6a\x82"  # no such EF on this card
    with pytest.raises(LookupError):
        _ = card.sign_certificate
    assert card.auth_certificate  # the auth certificate is there as on any card
