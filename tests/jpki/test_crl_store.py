"""CrlStore: every reason to refuse a CRL, freshness at lookup, persistence and restart."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509

from jpki.validation import CrlError, CrlStore, TrustStore
from jpki.validation.crlindex import CrlIndex
from jpki.validation.crlparse import NO_REASON
from jpki.validation.crlstore import COMPLETE, partition_id
from tests.jpki.conftest import NOW, MiniPki, partition_name, resign_crl, tbs_elements

TSUKUBA = partition_name("auth", "Tsukuba-shi")
MITO = partition_name("auth", "Mito-shi")
INDEX_KEY = b"configured-crl-index-key-0123456789"


def trust(pki: MiniPki) -> TrustStore:
    return TrustStore(pki.anchors)


def code_of(excinfo: pytest.ExceptionInfo[CrlError]) -> str:
    return excinfo.value.reason_code


def test_load_and_lookup(auth_pki: MiniPki, tmp_path: Path) -> None:
    store = CrlStore(tmp_path)
    crl = auth_pki.crl(
        revoked=[
            (7, NOW - timedelta(days=3), x509.ReasonFlags.key_compromise),
            (2**40, NOW - timedelta(days=1), None),
        ],
        number=5,
    )
    info = store.load(crl, trust(auth_pki), partition=TSUKUBA, at=NOW)
    assert info.partition == TSUKUBA.rfc4514_string() and info.crl_number == 5
    assert info.entries == 2
    key_id = bytes.fromhex(info.issuer_key_id)
    hit = store.lookup(TSUKUBA, 7, issuer_key_id=key_id, at=NOW)
    assert hit is not None and hit.reason == "keyCompromise"
    assert store.lookup(TSUKUBA, 2**40, at=NOW) is not None
    assert store.lookup(TSUKUBA, 8, issuer_key_id=key_id, at=NOW) is None
    # the same CRL again is a no-op
    assert store.load(crl, trust(auth_pki), partition=TSUKUBA, at=NOW) == info


def test_generation_chosen_by_aki_and_signature(auth_pki: MiniPki) -> None:
    store = CrlStore()
    info = store.load(auth_pki.crl(generation=1), trust(auth_pki), partition=TSUKUBA, at=NOW)
    assert (
        info.issuer_key_id
        == x509.SubjectKeyIdentifier.from_public_key(
            auth_pki.generations[1].key.public_key()
        ).digest.hex()
    )
    # without AKI the signature decides among same-DN generations
    info = CrlStore().load(
        auth_pki.crl(generation=1, with_aki=False), trust(auth_pki), partition=TSUKUBA, at=NOW
    )
    assert info.issuer_key_id.startswith(
        x509.SubjectKeyIdentifier.from_public_key(
            auth_pki.generations[1].key.public_key()
        ).digest.hex()[:8]
    )


@pytest.mark.parametrize(
    ("make", "reason_code"),
    [
        (lambda p: p.crl(signer=p.rogue), "CRL_ISSUER"),  # AKI names an unknown key
        (lambda p: p.crl(signer=p.rogue, with_aki=False), "CRL_SIGNATURE"),
        (lambda p: p.crl(partition=MITO), "CRL_PARTITION"),
        (lambda p: p.crl(partition=None), "CRL_PARTITION"),
        (lambda p: p.crl(number=None), "CRL_MALFORMED"),
        (
            lambda p: resign_crl(
                [e for i, e in enumerate(tbs_elements(p.crl())) if i != 4], p.generations[0]
            ),
            "CRL_MALFORMED",
        ),  # no nextUpdate
        (
            lambda p: resign_crl(tbs_elements(p.crl())[1:], p.generations[0]),
            "CRL_MALFORMED",
        ),  # no version (v1) yet extensions
        (lambda p: p.crl(this_update=NOW + timedelta(minutes=10)), "CRL_NOT_YET_VALID"),
        (
            lambda p: p.crl(
                this_update=NOW - timedelta(days=3), next_update=NOW - timedelta(seconds=1)
            ),
            "CRL_EXPIRED",
        ),
        (lambda p: p.crl(idp_kwargs={"only_contains_ca_certs": True}), "CRL_UNSUPPORTED"),
        (lambda p: p.crl(idp_kwargs={"indirect_crl": True}), "CRL_UNSUPPORTED"),
        (
            lambda p: p.crl(
                idp_kwargs={"only_some_reasons": frozenset({x509.ReasonFlags.key_compromise})}
            ),
            "CRL_UNSUPPORTED",
        ),
        (lambda p: p.crl(extra=[(x509.DeltaCRLIndicator(1), True)]), "CRL_UNSUPPORTED"),
        (
            lambda p: p.crl(
                extra=[
                    (
                        x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5"), b"\x05\x00"),
                        True,
                    )
                ]
            ),
            "CRL_UNSUPPORTED",
        ),
        (lambda p: b"\x30\x03\x02\x01\x00", "CRL_MALFORMED"),
        (lambda p: b"", "CRL_MALFORMED"),
    ],
)
def test_refusals(auth_pki: MiniPki, make: object, reason_code: str) -> None:
    crl = make(auth_pki)  # type: ignore[operator]
    store = CrlStore()
    with pytest.raises(CrlError) as info:
        store.load(crl, trust(auth_pki), partition=TSUKUBA, at=NOW)
    assert code_of(info) == reason_code
    with pytest.raises(CrlError) as info:
        store.lookup(TSUKUBA, 1, at=NOW)
    assert code_of(info) == "CRL_NOT_HELD"


def test_tampered_crl_fails_signature(auth_pki: MiniPki) -> None:
    crl = bytearray(auth_pki.crl(revoked=[(99, NOW - timedelta(days=1), None)]))
    position = crl.index(bytes.fromhex("020163"))  # the serial 99
    crl[position + 2] = 0x62  # now it says 98
    with pytest.raises(CrlError) as info:
        CrlStore().load(bytes(crl), trust(auth_pki), partition=TSUKUBA, at=NOW)
    assert code_of(info) == "CRL_SIGNATURE"


def test_resigned_crl_is_accepted_when_well_formed(auth_pki: MiniPki) -> None:
    # the re-signing helper itself produces CRLs the store accepts
    crl = resign_crl(tbs_elements(auth_pki.crl(number=77)), auth_pki.generations[0])
    assert CrlStore().load(crl, trust(auth_pki), partition=TSUKUBA, at=NOW).crl_number == 77


def test_other_ca_is_not_an_issuer(auth_pki: MiniPki, sign_pki: MiniPki) -> None:
    with pytest.raises(CrlError) as info:
        CrlStore().load(auth_pki.crl(), trust(sign_pki), partition=TSUKUBA, at=NOW)
    assert code_of(info) == "CRL_ISSUER"


def test_crl_number_must_not_go_back(auth_pki: MiniPki, tmp_path: Path) -> None:
    store = CrlStore(tmp_path)
    store.load(auth_pki.crl(number=10), trust(auth_pki), partition=TSUKUBA, at=NOW)
    for number in (9, 10):  # lower, or equal with different content
        with pytest.raises(CrlError) as info:
            store.load(
                auth_pki.crl(number=number, revoked=[(5, NOW, None)]),
                trust(auth_pki),
                partition=TSUKUBA,
                at=NOW,
            )
        assert code_of(info) == "CRL_NUMBER_REGRESSION"
    # the persisted number survives a restart
    restarted = CrlStore(tmp_path)
    with pytest.raises(CrlError) as info:
        restarted.load(auth_pki.crl(number=3), trust(auth_pki), partition=TSUKUBA, at=NOW)
    assert code_of(info) == "CRL_NUMBER_REGRESSION"
    newer = restarted.load(
        auth_pki.crl(number=11, revoked=[(5, NOW, None)]),
        trust(auth_pki),
        partition=TSUKUBA,
        at=NOW,
    )
    assert newer.crl_number == 11
    assert restarted.lookup(TSUKUBA, 5, at=NOW) is not None


def test_freshness_at_lookup(auth_pki: MiniPki) -> None:
    store = CrlStore(clock_skew=timedelta(minutes=5))
    store.load(
        auth_pki.crl(this_update=NOW - timedelta(hours=1), next_update=NOW + timedelta(hours=1)),
        trust(auth_pki),
        partition=TSUKUBA,
        at=NOW,
    )
    assert store.lookup(TSUKUBA, 1, at=NOW + timedelta(minutes=59)) is None
    with pytest.raises(CrlError) as info:
        store.lookup(TSUKUBA, 1, at=NOW + timedelta(hours=1, seconds=1))
    assert code_of(info) == "CRL_EXPIRED"
    with pytest.raises(CrlError) as info:
        store.lookup(TSUKUBA, 1, at=NOW - timedelta(hours=2))
    assert code_of(info) == "CRL_NOT_YET_VALID"
    # within the skew a slightly early clock is tolerated
    assert store.lookup(TSUKUBA, 1, at=NOW - timedelta(hours=1, minutes=4)) is None


def test_restart_uses_persisted_index_without_the_crl(auth_pki: MiniPki, tmp_path: Path) -> None:
    store = CrlStore(tmp_path, index_key=INDEX_KEY)
    info = store.load(
        auth_pki.crl(revoked=[(42, NOW, x509.ReasonFlags.superseded)]),
        trust(auth_pki),
        partition=TSUKUBA,
        at=NOW,
    )
    files = list(tmp_path.glob("*.crlidx"))
    assert len(files) == 1 and not list(tmp_path.glob(".tmp-*"))
    files[0].with_suffix(".crl").unlink()  # with the key, the index alone suffices
    restarted = CrlStore(tmp_path, index_key=INDEX_KEY)
    assert [i.sha256 for i in restarted.held()] == [info.sha256]
    hit = restarted.lookup(TSUKUBA, 42, at=NOW)
    assert hit is not None and hit.reason == "superseded"
    # a damaged index file with no signed CRL to rebuild from is "nothing held"
    files[0].write_bytes(files[0].read_bytes()[:-1])
    with pytest.raises(CrlError) as excinfo:
        CrlStore(tmp_path, index_key=INDEX_KEY, trust=trust(auth_pki)).lookup(TSUKUBA, 42, at=NOW)
    assert code_of(excinfo) == "CRL_NOT_HELD"


def _forge_index_without(path: Path, serial: int, key: bytes | None) -> None:
    """What an attacker with write access to the store does: drop `serial` from the
    index and recompute the (unkeyed) digest, keeping the CRL's own info. (The index is
    not secret: reading it needs no key, the test just uses the parser.)"""
    genuine = CrlIndex.from_bytes(path.read_bytes(), key)
    kept = [s for s in range(1, 100) if s != serial and genuine.find(s) is not None]
    stamp = int(NOW.timestamp())
    forged = CrlIndex.build(
        dataclasses.replace(genuine.info, entries=len(kept)),
        kept,
        [stamp] * len(kept),
        [NO_REASON] * len(kept),
    )
    path.write_bytes(forged.to_bytes())


@pytest.mark.parametrize("index_key", [INDEX_KEY, None], ids=["keyed", "no-key"])
def test_an_altered_index_is_rebuilt_from_the_signed_crl_never_trusted(
    auth_pki: MiniPki, tmp_path: Path, index_key: bytes | None
) -> None:
    """Issue 14 #6: a changed index file with a recomputed digest must not turn a
    revoked serial good after a restart."""
    store = CrlStore(tmp_path, index_key=index_key)
    store.load(
        auth_pki.crl(revoked=[(42, NOW, x509.ReasonFlags.key_compromise), (7, NOW, None)]),
        trust(auth_pki),
        partition=TSUKUBA,
        at=NOW,
    )
    (path,) = tmp_path.glob("*.crlidx")
    _forge_index_without(path, 42, index_key)
    restarted = CrlStore(tmp_path, index_key=index_key, trust=trust(auth_pki))
    hit = restarted.lookup(TSUKUBA, 42, at=NOW)
    assert hit is not None and hit.reason == "keyCompromise"
    assert restarted.lookup(TSUKUBA, 7, at=NOW) is not None
    # the rebuilt index replaced the forged one on disk
    assert CrlStore(tmp_path, index_key=index_key, trust=trust(auth_pki)).lookup(
        TSUKUBA, 42, at=NOW
    )
    # nothing to verify the CRL against: cannot decide, never "not listed"
    _forge_index_without(path, 42, index_key)
    with pytest.raises(CrlError) as excinfo:
        CrlStore(tmp_path, index_key=index_key).lookup(TSUKUBA, 42, at=NOW)
    assert code_of(excinfo) == "CRL_NOT_HELD"


def test_a_replaced_signed_crl_is_verified_again(auth_pki: MiniPki, tmp_path: Path) -> None:
    """The CRL kept beside the index is only used after its signature verifies again."""
    store = CrlStore(tmp_path)
    store.load(auth_pki.crl(revoked=[(42, NOW, None)]), trust(auth_pki), partition=TSUKUBA, at=NOW)
    (path,) = tmp_path.glob("*.crlidx")
    path.unlink()
    crl = bytearray(path.with_suffix(".crl").read_bytes())
    crl[-1] ^= 1  # the signature no longer verifies
    path.with_suffix(".crl").write_bytes(bytes(crl))
    with pytest.raises(CrlError) as excinfo:
        CrlStore(tmp_path, trust=trust(auth_pki)).lookup(TSUKUBA, 42, at=NOW)
    assert code_of(excinfo) == "CRL_NOT_HELD"


def test_a_short_index_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        CrlStore(index_key=b"short")


def test_generations_are_held_apart(auth_pki: MiniPki) -> None:
    store = CrlStore()
    old = store.load(
        auth_pki.crl(generation=0, revoked=[(1, NOW, None)]),
        trust(auth_pki),
        partition=TSUKUBA,
        at=NOW,
    )
    new = store.load(auth_pki.crl(generation=1), trust(auth_pki), partition=TSUKUBA, at=NOW)
    assert old.issuer_key_id != new.issuer_key_id
    assert (
        store.lookup(TSUKUBA, 1, issuer_key_id=bytes.fromhex(old.issuer_key_id), at=NOW) is not None
    )
    assert store.lookup(TSUKUBA, 1, issuer_key_id=bytes.fromhex(new.issuer_key_id), at=NOW) is None
    with pytest.raises(CrlError):  # ambiguous without a generation
        store.lookup(TSUKUBA, 1, at=NOW)


def test_caps(auth_pki: MiniPki) -> None:
    crl = auth_pki.crl(revoked=[(s, NOW, None) for s in range(1, 12)])
    with pytest.raises(CrlError) as info:
        CrlStore(max_bytes=100).load(crl, trust(auth_pki), partition=TSUKUBA, at=NOW)
    assert code_of(info) == "CRL_TOO_LARGE"
    with pytest.raises(CrlError) as info:
        CrlStore(max_entries=10).load(crl, trust(auth_pki), partition=TSUKUBA, at=NOW)
    assert code_of(info) == "CRL_MALFORMED"


def test_complete_crl_and_partition_ids(auth_pki: MiniPki) -> None:
    store = CrlStore()
    info = store.load(auth_pki.crl(partition=None), trust(auth_pki), at=NOW)
    assert info.partition == COMPLETE
    assert partition_id(TSUKUBA) == TSUKUBA.rfc4514_string()
    assert partition_id(None) == COMPLETE


def test_readers_keep_their_index_during_a_swap(auth_pki: MiniPki, tmp_path: Path) -> None:
    store = CrlStore(tmp_path)
    store.load(
        auth_pki.crl(number=1, revoked=[(s, NOW, None) for s in range(1, 200)]),
        trust(auth_pki),
        partition=TSUKUBA,
        at=NOW,
    )
    held = store.index(TSUKUBA)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(300):
                index = store.index(TSUKUBA)
                found = index.find(150)
                assert (found is not None) == (index.info.crl_number == 1)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    store.load(auth_pki.crl(number=2), trust(auth_pki), partition=TSUKUBA, at=NOW)
    for t in threads:
        t.join()
    assert not errors
    assert held.find(150) is not None  # the old index is untouched
    assert store.index(TSUKUBA).find(150) is None


def test_idp_relative_to_the_crl_issuer(auth_pki: MiniPki) -> None:
    rdn = x509.RelativeDistinguishedName(
        [x509.NameAttribute(x509.NameOID.COMMON_NAME, "Tsukuba-shi CRLDP")]
    )
    crl = auth_pki.crl(idp_kwargs={"full_name": None, "relative_name": rdn})
    issuer = auth_pki.generations[0].cert.subject
    expected = x509.Name([*issuer.rdns, rdn])
    info = CrlStore().load(crl, trust(auth_pki), partition=expected, at=NOW)
    assert info.partition == expected.rfc4514_string()
    with pytest.raises(CrlError) as excinfo:
        CrlStore().load(crl, trust(auth_pki), partition=TSUKUBA, at=NOW)
    assert code_of(excinfo) == "CRL_PARTITION"
