"""Test PKI: revocation and per-municipality CRLs, checked with cryptography and the real
openssl command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.pki import (
    AlreadyRevokedError,
    InvalidPartitionError,
    PkiError,
    TestPki,
    UnknownReasonError,
    UnknownSerialError,
)
from simulators.pki.names import Partition
from simulators.pki.reasons import parse_reason
from tests.simulators.test_pki_support import (
    clean_pki_dir,
    issue,
    openssl,
    pki,
    write_crl_pem,
    write_pem,
)

__all__ = ["clean_pki_dir", "pki"]

TOKYO = "Tokyo/Chiyoda-ku"
OSAKA = "Osaka/Osaka-shi"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("move", x509.ReasonFlags.affiliation_changed),
        ("renewal", x509.ReasonFlags.superseded),
        ("loss", x509.ReasonFlags.key_compromise),
        ("death", x509.ReasonFlags.cessation_of_operation),
        ("return", x509.ReasonFlags.cessation_of_operation),
        ("keyCompromise", x509.ReasonFlags.key_compromise),
        ("key_compromise", x509.ReasonFlags.key_compromise),
        ("privilege-withdrawn", x509.ReasonFlags.privilege_withdrawn),
        ("unspecified", x509.ReasonFlags.unspecified),
        (x509.ReasonFlags.superseded, x509.ReasonFlags.superseded),
    ],
)
def test_reasons_map_to_rfc5280(given: str, expected: x509.ReasonFlags) -> None:
    assert parse_reason(given) is expected


@pytest.mark.parametrize("bad", ["", "stolen", "certificateHold", "removeFromCRL", "0"])
def test_unknown_or_suspension_reasons_are_refused(bad: str) -> None:
    with pytest.raises(UnknownReasonError):
        parse_reason(bad)


def test_revoke_records_reason_and_time_and_is_final(pki: TestPki) -> None:
    auth, sign = issue(pki)
    at = _now() - dt.timedelta(minutes=5)
    record = pki.revoke(auth.serial_number, "move", at=at)
    assert (record.reason, record.revoked_at) == ("affiliationChanged", at)
    status = pki.status(auth.serial_number)
    assert (status.state, status.reason, status.revoked_at) == ("revoked", "affiliationChanged", at)
    assert pki.status(auth.serial_number, now=at - dt.timedelta(seconds=1)).state == "good"
    assert pki.status(sign.serial_number).state == "good"
    with pytest.raises(AlreadyRevokedError) as raised:
        pki.revoke(auth.serial_number, "loss")
    assert raised.value.reason == "affiliationChanged"
    assert pki.status(auth.serial_number).reason == "affiliationChanged"  # unchanged
    # Another process (a reopened PKI) sees it too.
    assert TestPki.open(pki.directory).status(auth.serial_number).state == "revoked"


def test_unknown_serial_is_a_typed_error_and_status_unknown(pki: TestPki) -> None:
    with pytest.raises(UnknownSerialError) as raised:
        pki.revoke(123456789, "loss")
    assert raised.value.serial == 123456789
    assert pki.status(123456789).state == "unknown"
    with pytest.raises(UnknownReasonError):
        pki.revoke(123456789, "stolen")


def test_revoke_card_revokes_both_certificates(pki: TestPki) -> None:
    auth, sign = issue(pki)
    pki.revoke(sign.serial_number, "move")
    revoked = pki.revoke_card(auth.serial_number, "loss")
    assert [r.serial for r in revoked] == [auth.serial_number]  # sign was already revoked
    assert pki.status(auth.serial_number).reason == "keyCompromise"
    assert pki.status(sign.serial_number).reason == "affiliationChanged"


def test_crl_lists_the_partitions_revocations_with_reasons(pki: TestPki) -> None:
    now = _now()
    tokyo_auth, tokyo_sign = issue(pki, "yamada-taro", now=now)
    kept, _ = issue(pki, "yamada-taro", now=now)
    osaka_auth, _ = issue(pki, "sato-hanako", now=now)
    pki.revoke(tokyo_auth.serial_number, "loss", at=now)
    pki.revoke(tokyo_sign.serial_number, "move", at=now)
    pki.revoke(osaka_auth.serial_number, "unspecified", at=now)
    crl = x509.load_der_x509_crl(pki.crl("auth", TOKYO, now=now))
    assert crl.issuer == pki.generation("auth").certificate.subject
    assert crl.is_signature_valid(pki.generation("auth").certificate.public_key())  # type: ignore[arg-type]
    entries = {r.serial_number: r for r in crl}
    assert set(entries) == {tokyo_auth.serial_number}  # not the sign one, not Osaka's
    entry = entries[tokyo_auth.serial_number]
    assert entry.revocation_date_utc == now
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
        x509.ReasonFlags.key_compromise
    )
    assert kept.serial_number not in entries
    sign_crl = x509.load_der_x509_crl(pki.crl("sign", TOKYO, now=now))
    assert [r.serial_number for r in sign_crl] == [tokyo_sign.serial_number]
    osaka = x509.load_der_x509_crl(pki.crl("auth", OSAKA, now=now))
    (osaka_entry,) = list(osaka)
    with pytest.raises(x509.ExtensionNotFound):  # unspecified is left out (RFC 5280 5.3.1)
        osaka_entry.extensions.get_extension_for_class(x509.CRLReason)
    assert set(pki.partitions("auth")) >= {TOKYO, OSAKA}


def test_crl_extensions_name_the_partition(pki: TestPki) -> None:
    auth, _ = issue(pki)
    crl = x509.load_der_x509_crl(pki.crl("auth", TOKYO))
    idp = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
    assert idp.critical
    assert idp.value.only_contains_user_certs
    cert_dps = auth.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    cert_names = {name for dp in cert_dps for name in dp.full_name or []}
    assert set(idp.value.full_name or []) == cert_names  # the directoryName and the URL
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = pki.generation("auth").certificate.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    )
    assert aki.key_identifier == ski.value.digest
    crl.extensions.get_extension_for_class(x509.CRLNumber)


def test_this_update_next_update_follow_the_injected_clock(pki: TestPki) -> None:
    t0 = _now()
    crl = x509.load_der_x509_crl(pki.crl("auth", TOKYO, now=t0))
    assert crl.last_update_utc == t0
    assert crl.next_update_utc == t0 + dt.timedelta(hours=24)
    pki.crl_validity = dt.timedelta(hours=6)
    t1 = t0 + dt.timedelta(hours=1)
    later = x509.load_der_x509_crl(pki.crl("auth", TOKYO, now=t1, fresh=True))
    assert (later.last_update_utc, later.next_update_utc) == (t1, t1 + dt.timedelta(hours=6))


def _number(der: bytes) -> int:
    crl = x509.load_der_x509_crl(der)
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_crl_number_rises_only_when_a_new_crl_is_issued_and_survives_reopen(
    pki: TestPki,
) -> None:
    auth, _ = issue(pki)
    t0 = _now()
    first = pki.crl("auth", TOKYO, now=t0)
    # Same content, within half the validity: the same CRL again, byte for byte.
    assert pki.crl("auth", TOKYO, now=t0 + dt.timedelta(hours=2)) == first
    # A revocation makes a new one at once.
    pki.revoke(auth.serial_number, "renewal", at=t0 + dt.timedelta(hours=3))
    second = pki.crl("auth", TOKYO, now=t0 + dt.timedelta(hours=3))
    assert _number(second) == _number(first) + 1
    # Half its validity later: reissued.
    third = pki.crl("auth", TOKYO, now=t0 + dt.timedelta(hours=16))
    assert _number(third) == _number(second) + 1
    reopened = TestPki.open(pki.directory)
    assert reopened.crl("auth", TOKYO, now=t0 + dt.timedelta(hours=16)) == third
    fourth = reopened.crl("auth", TOKYO, now=t0 + dt.timedelta(hours=17), fresh=True)
    assert _number(fourth) == _number(third) + 1
    # The number is per partition and per CA: other partitions start on their own.
    assert _number(reopened.crl("sign", TOKYO, now=t0)) >= 1
    # An older generation's CRL of the partition continues the same sequence.
    older = reopened.generations("auth")[0].name
    assert _number(reopened.crl("auth", TOKYO, now=t0, generation=older)) == _number(fourth) + 1


def test_revocation_dated_after_the_crl_time_is_not_listed_yet(pki: TestPki) -> None:
    auth, _ = issue(pki)
    t0 = _now()
    pki.revoke(auth.serial_number, "loss", at=t0 + dt.timedelta(hours=1))
    assert list(x509.load_der_x509_crl(pki.crl("auth", TOKYO, now=t0))) == []
    later = x509.load_der_x509_crl(pki.crl("auth", TOKYO, now=t0 + dt.timedelta(hours=2)))
    assert [r.serial_number for r in later] == [auth.serial_number]


def test_bad_partition_is_a_typed_error(pki: TestPki) -> None:
    for bad in ("Tokyo", "Tokyo/Chiyoda/ku", "../etc/passwd", "Tokyo/", "東京/千代田区"):
        with pytest.raises(InvalidPartitionError):
            pki.crl("auth", bad)


# -- openssl ---------------------------------------------------------------------------


def test_openssl_verifies_every_crl_signature_and_shows_reasons(
    pki: TestPki, tmp_path: Path
) -> None:
    auth, sign = issue(pki)
    issue(pki, "sato-hanako")
    pki.revoke(auth.serial_number, "loss")
    pki.revoke(sign.serial_number, "move")
    checked = 0
    for kind in ("auth", "sign"):
        ca = write_pem(tmp_path / f"{kind}-ca.pem", pki.ca_certificate(kind))
        for partition in pki.partitions(kind):
            der_path = tmp_path / f"{kind}.crl"
            der_path.write_bytes(pki.crl(kind, partition))
            result = openssl("crl", "-inform", "DER", "-in", der_path, "-CAfile", ca, "-noout")
            assert result.returncode == 0, result.stderr
            assert "verify OK" in result.stdout + result.stderr
            checked += 1
    assert checked >= 4
    tokyo = tmp_path / "tokyo.crl"
    tokyo.write_bytes(pki.crl("auth", TOKYO))
    text = openssl("crl", "-inform", "DER", "-in", tokyo, "-text", "-noout", check=True).stdout
    assert f"Serial Number: {auth.serial_number:X}" in text
    assert "Key Compromise" in text
    assert "Issuing Distribution Point: critical" in text
    assert "CN = Chiyoda-ku CRLDP" in text
    sign_crl = tmp_path / "tokyo-sign.crl"
    sign_crl.write_bytes(pki.crl("sign", TOKYO))
    text = openssl("crl", "-inform", "DER", "-in", sign_crl, "-text", "-noout", check=True).stdout
    assert f"Serial Number: {sign.serial_number:X}" in text
    assert "Affiliation Changed" in text
    # A CRL checked against the other CA fails: the check is real.
    wrong = write_pem(tmp_path / "wrong.pem", pki.ca_certificate("sign"))
    result = openssl("crl", "-inform", "DER", "-in", tokyo, "-CAfile", wrong, "-noout")
    assert "verify OK" not in result.stdout + result.stderr


def test_openssl_verify_with_crl_check_good_and_revoked(pki: TestPki, tmp_path: Path) -> None:
    good, good_sign = issue(pki)
    bad, bad_sign = issue(pki)
    pki.revoke(bad.serial_number, "loss")
    pki.revoke(bad_sign.serial_number, "renewal")
    for kind, ok, revoked in (("auth", good, bad), ("sign", good_sign, bad_sign)):
        ca = write_pem(tmp_path / f"{kind}-ca.pem", pki.ca_certificate(kind))
        crl = write_crl_pem(tmp_path / f"{kind}-crl.pem", pki.crl(kind, TOKYO))
        result = openssl(
            "verify", "-crl_check", "-CRLfile", crl, "-CAfile", ca,
            write_pem(tmp_path / "ok.pem", ok),
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert ": OK" in result.stdout
        result = openssl(
            "verify", "-crl_check", "-CRLfile", crl, "-CAfile", ca,
            write_pem(tmp_path / "revoked.pem", revoked),
        )  # fmt: skip
        assert result.returncode != 0
        assert "certificate revoked" in result.stdout + result.stderr


def test_openssl_refuses_another_partitions_crl(pki: TestPki, tmp_path: Path) -> None:
    auth, _ = issue(pki)  # Tokyo
    issue(pki, "sato-hanako")
    ca = write_pem(tmp_path / "ca.pem", pki.ca_certificate("auth"))
    osaka = write_crl_pem(tmp_path / "osaka.pem", pki.crl("auth", OSAKA))
    result = openssl(
        "verify", "-crl_check", "-CRLfile", osaka, "-CAfile", ca,
        write_pem(tmp_path / "ee.pem", auth),
    )  # fmt: skip
    assert result.returncode != 0
    assert "different CRL scope" in result.stdout + result.stderr


def test_older_generation_cards_name_the_crl_their_issuer_signs(
    pki: TestPki, tmp_path: Path
) -> None:
    """OpenSSL wants a CRL signed by the certificate's own issuer key. A card from the
    older generation names that generation's CRL URL; with both CRLs and both anchors,
    openssl finds the right pair for each card."""
    older = pki.generations("auth")[0].name
    old_good, _ = issue(pki, generation=older)
    old_bad, _ = issue(pki, generation=older)
    new_bad, _ = issue(pki)
    pki.revoke(old_bad.serial_number, "loss")
    pki.revoke(new_bad.serial_number, "move")
    old_dp = old_good.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert old_dp[1].full_name[0].value == pki.crl_url("auth", TOKYO, generation=older)
    assert old_dp[1].full_name[0].value.endswith(f"?generation={older}")
    old_crl = x509.load_der_x509_crl(pki.crl("auth", TOKYO, generation=older))
    current_crl = x509.load_der_x509_crl(pki.crl("auth", TOKYO))
    # Every CRL of the partition lists every revocation in it.
    assert (
        {r.serial_number for r in old_crl}
        == {r.serial_number for r in current_crl}
        == {
            old_bad.serial_number,
            new_bad.serial_number,
        }
    )
    assert old_crl.is_signature_valid(pki.generation("auth", older).certificate.public_key())  # type: ignore[arg-type]
    anchors = write_pem(tmp_path / "anchors.pem", *pki.trust_anchors("auth"))
    # The reason for per-generation CRLs: openssl refuses the newer generation's CRL
    # for an older generation's certificate, same DN or not.
    only_current = write_crl_pem(tmp_path / "current.pem", current_crl.public_bytes(Encoding.DER))
    result = openssl(
        "verify", "-crl_check", "-CRLfile", only_current, "-CAfile", anchors,
        write_pem(tmp_path / "ee.pem", old_good),
    )  # fmt: skip
    assert result.returncode != 0
    assert "unable to get certificate CRL" in result.stdout + result.stderr
    crls = tmp_path / "crls.pem"
    crls.write_bytes(
        write_crl_pem(tmp_path / "a.pem", old_crl.public_bytes(Encoding.DER)).read_bytes()
        + write_crl_pem(tmp_path / "b.pem", current_crl.public_bytes(Encoding.DER)).read_bytes()
    )
    for cert, ok in ((old_good, True), (old_bad, False), (new_bad, False)):
        result = openssl(
            "verify", "-crl_check", "-CRLfile", crls, "-CAfile", anchors,
            write_pem(tmp_path / "ee.pem", cert),
        )  # fmt: skip
        assert (result.returncode == 0) is ok, result.stdout + result.stderr
        if not ok:
            assert "certificate revoked" in result.stdout + result.stderr


def test_crl_for_url_resolves_the_urls_certificates_name(pki: TestPki) -> None:
    older = pki.generations("auth")[0]
    new_auth, _ = issue(pki)
    old_auth, _ = issue(pki, generation=older.name)
    for cert, signer in ((new_auth, pki.generation("auth")), (old_auth, older)):
        dps = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        crl = x509.load_der_x509_crl(pki.crl_for_url(dps[1].full_name[0].value))
        assert crl.is_signature_valid(signer.certificate.public_key())  # type: ignore[arg-type]
    pki.set_base_url("http://127.0.0.1:1")  # older URLs still resolve by their path
    dps = new_auth.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert pki.crl_for_url(dps[1].full_name[0].value)
    for bad in (
        "http://127.0.0.1:8790/ocsp/auth",
        "http://127.0.0.1:8790/crl/auth/Tokyo/Chiyoda-ku",
        "http://127.0.0.1:8790/crl/auth/Tokyo/Chiyoda-ku.crl?x=1",
        "http://127.0.0.1:8790/crl/auth/Tokyo.crl",
        "http://127.0.0.1:8790/crl/root/Tokyo/Chiyoda-ku.crl",
        "http://127.0.0.1:8790/crl/auth/Tokyo/Chiyoda-ku.crl?generation=1999",
    ):
        with pytest.raises(PkiError):
            pki.crl_for_url(bad)


def test_crl_numbers_never_repeat_under_concurrent_publishers(pki: TestPki) -> None:
    import threading

    auth, _ = issue(pki)
    other = TestPki.open(pki.directory)  # a second handle, as another process would have
    numbers: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def publish(handle: TestPki) -> None:
        try:
            for _ in range(5):
                number = _number(handle.crl("auth", TOKYO, fresh=True))
                with lock:
                    numbers.append(number)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(h,)) for h in (pki, other, pki, other)]
    for thread in threads:
        thread.start()
    pki.revoke(auth.serial_number, "loss")
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(numbers) == 20
    assert len(set(numbers)) == 20
    assert max(numbers) - min(numbers) == 19


_PART = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 .'_-]{0,20}", fullmatch=True)


@settings(max_examples=80, deadline=None)
@given(prefecture=_PART, city=_PART)
def test_partition_ids_and_urls_round_trip(prefecture: str, city: str) -> None:
    partition = Partition(prefecture, city)
    assert Partition.parse(partition.id) == partition
    assert Partition.from_url_path(partition.url_path()) == partition
    assert " " not in partition.url_path() and partition.url_path().count("/") == 1
    dp = partition.distribution_point_name("sign")
    assert dp.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"{city} CRLDP"
    assert dp.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[-1].value == prefecture
