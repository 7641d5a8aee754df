"""The test JPKI authority: two CAs (auth, sign) with two same-DN generations each, card
certificate issuance, revocation, partitioned CRLs and an OCSP responder, all kept in one
directory.

Directory layout (keys are test keys, unencrypted, mode 0600):
  state.sqlite                     index of issued certificates, revocations, CRLs, meta
  ca/<kind>-<gen>.pem              CA certificates (trust anchors; same DN per kind)
  ocsp/<kind>-<gen>.pem            delegated OCSP responder certificate per generation
  keys/ca-<kind>-<gen>.key.pem     CA keys
  keys/ocsp-<kind>.key.pem         responder key (one per kind, certified by each gen)
  keys/issuer-admin.key.pem        EC P-256 key for the card's admin commands (a model)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import string
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from jpki.admin_protocol import MIN_CHALLENGE_LENGTH, issuer_auth_message
from simulators.issuing import IssuedCertificates
from simulators.personas import Persona
from simulators.pki import ocsp as ocsp_core
from simulators.pki.certs import (
    RSA_BITS,
    CardCertificateRequest,
    build_ca_certificate,
    build_card_certificate,
    build_responder_certificate,
    new_rsa_key,
)
from simulators.pki.crl import build_crl, content_key
from simulators.pki.errors import (
    InvalidBaseUrlError,
    InvalidPartitionError,
    IssuanceError,
    PkiStateError,
    UnknownGenerationError,
    UnknownSerialError,
    UnknownUrlError,
)
from simulators.pki.names import KINDS, Kind, Partition, as_kind
from simulators.pki.possession import verify_possession
from simulators.pki.reasons import parse_reason
from simulators.pki.store import CertificateRecord, Store, StoredCrl
from simulators.pki.validity import (
    add_years,
    as_utc,
    card_certificate_not_after,
    end_of_day_jst,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8790"
CRL_VALIDITY = dt.timedelta(hours=24)  # J-LIS publishes daily
OCSP_VALIDITY = dt.timedelta(minutes=15)  # the real responder refreshes about that often
CA_LIFETIME_YEARS = 10
OLDER_GENERATION_AGE_YEARS = 5
SUBJECT_ID_LENGTH = 23
ADMIN_KEY_FILE = "issuer-admin.key.pem"
_SUBJECT_ID_ALPHABET = string.digits + string.ascii_uppercase


@dataclass(frozen=True)
class CaGeneration:
    """One key generation of a CA. All generations of a kind share the DN."""

    kind: Kind
    name: str
    certificate: x509.Certificate
    responder_certificate: x509.Certificate
    key: rsa.RSAPrivateKey = field(repr=False)
    responder_key: rsa.RSAPrivateKey = field(repr=False)

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(Encoding.DER)


@dataclass(frozen=True)
class CertificateStatus:
    """The PKI's own view of a serial number at an instant."""

    serial: int
    state: Literal["good", "revoked", "unknown"]
    kind: Kind | None = None
    role: str | None = None
    reason: str | None = None  # RFC 5280 CRLReason name, e.g. "keyCompromise"
    revoked_at: dt.datetime | None = None
    not_after: dt.datetime | None = None
    expired: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "serial": self.serial,
            "serial_hex": f"{self.serial:X}",
            "state": self.state,
            "kind": self.kind,
            "role": self.role,
            "reason": self.reason,
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
            "not_after": None if self.not_after is None else self.not_after.isoformat(),
            "expired": self.expired,
        }


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidBaseUrlError(f"base URL {base_url!r} must be http(s)://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidBaseUrlError(f"base URL {base_url!r} must not carry a path or query")
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError as exc:
        raise InvalidBaseUrlError(f"base URL {base_url!r}: {exc}") from exc
    return f"{parts.scheme}://{parts.netloc}"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    path.chmod(0o600)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def _ec_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def _random_serial() -> int:
    # 63 bits with the top one set: positive, always 8 DER bytes, unguessable.
    return (1 << 62) | secrets.randbits(62)


class TestPki:
    """The issuing side of a test JPKI. Open with `TestPki.open_or_create(directory)`."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        directory: Path,
        store: Store,
        generations: dict[Kind, list[CaGeneration]],
    ) -> None:
        self.directory = directory
        self._store = store
        self._generations = generations
        self._lock = threading.RLock()
        self.crl_validity = CRL_VALIDITY
        self.ocsp_validity = OCSP_VALIDITY
        self._admin_key_cache: ec.EllipticCurvePrivateKey | None = None
        self._pop_nonces: set[bytes] = set()

    # -- opening and creating ---------------------------------------------------------
    @classmethod
    def open_or_create(
        cls,
        directory: Path,
        *,
        now: dt.datetime | None = None,
        base_url: str | None = None,
    ) -> TestPki:
        """Open the PKI in `directory`, creating it (keys, CAs, responders) on first use.
        `base_url` is used when creating; an existing PKI keeps its own (see
        `set_base_url`)."""
        directory = Path(directory)
        if (directory / Store.FILENAME).exists():
            return cls.open(directory)
        return cls.create(directory, now=now, base_url=base_url or DEFAULT_BASE_URL)

    @staticmethod
    def exists(directory: Path) -> bool:
        return (Path(directory) / Store.FILENAME).exists()

    @classmethod
    def open(cls, directory: Path) -> TestPki:
        directory = Path(directory)
        store = Store(directory / Store.FILENAME)
        if not store.path.exists():
            raise PkiStateError(f"no test PKI in {directory} (run `mynaterm pki init`)")
        meta = store.meta()
        try:
            names: dict[str, list[str]] = json.loads(meta["generations"])
            generations = {
                kind: [cls._load_generation(directory, kind, name) for name in names[kind]]
                for kind in KINDS
            }
        except (KeyError, ValueError, OSError, TypeError) as exc:
            raise PkiStateError(f"test PKI in {directory} is incomplete: {exc}") from exc
        return cls(directory, store, generations)

    @staticmethod
    def _load_generation(directory: Path, kind: Kind, name: str) -> CaGeneration:
        def key(path: Path) -> rsa.RSAPrivateKey:
            # These keys were generated here and live in a 0600 file; the (slow) RSA
            # consistency check guards against hostile keys, which this is not.
            loaded = load_pem_private_key(
                path.read_bytes(), None, unsafe_skip_rsa_key_validation=True
            )
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError(f"{path} is not an RSA key")
            return loaded

        return CaGeneration(
            kind=kind,
            name=name,
            certificate=x509.load_pem_x509_certificate(
                (directory / "ca" / f"{kind}-{name}.pem").read_bytes()
            ),
            responder_certificate=x509.load_pem_x509_certificate(
                (directory / "ocsp" / f"{kind}-{name}.pem").read_bytes()
            ),
            key=key(directory / "keys" / f"ca-{kind}-{name}.key.pem"),
            responder_key=key(directory / "keys" / f"ocsp-{kind}.key.pem"),
        )

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        now: dt.datetime | None = None,
        base_url: str = DEFAULT_BASE_URL,
    ) -> TestPki:
        """Make a new PKI: per kind an older and a current CA generation (same DN, own
        keys; the older one `OLDER_GENERATION_AGE_YEARS` old, like J-LIS's 2015 and 2023
        CAs), and for each generation a delegated OCSP responder certificate."""
        directory = Path(directory)
        if (directory / Store.FILENAME).exists():
            raise PkiStateError(f"a test PKI already exists in {directory}")
        base_url = _check_base_url(base_url)
        now = as_utc(now)
        directory.mkdir(parents=True, exist_ok=True)
        older_start = add_years(now, -OLDER_GENERATION_AGE_YEARS)
        # The current generation is back-dated a day so a clock slightly behind (or a
        # test that injects "a little earlier") still sees it valid.
        starts = [older_start, now - dt.timedelta(days=1)]
        names: dict[str, list[str]] = {}
        records: list[CertificateRecord] = []
        serials: set[int] = set()

        def serial() -> int:
            value = _random_serial()
            while value in serials:
                value = _random_serial()
            serials.add(value)
            return value

        for kind in KINDS:
            responder_key = new_rsa_key()
            _write_private(directory / "keys" / f"ocsp-{kind}.key.pem", _key_pem(responder_key))
            names[kind] = []
            for start in starts:
                name = str(start.year)
                ca_key = new_rsa_key()
                not_after = end_of_day_jst(
                    (add_years(start, CA_LIFETIME_YEARS) - dt.timedelta(days=1)).date()
                )
                ca_cert = build_ca_certificate(
                    kind, ca_key, serial=serial(), not_before=start, not_after=not_after
                )
                responder_cert = build_responder_certificate(
                    kind,
                    name,
                    ca_cert,
                    ca_key,
                    responder_key.public_key(),
                    serial=serial(),
                    not_before=max(start, now - dt.timedelta(days=1)),
                    not_after=not_after,
                )
                _write_private(directory / "keys" / f"ca-{kind}-{name}.key.pem", _key_pem(ca_key))
                for folder, cert, role in (
                    ("ca", ca_cert, "ca"),
                    ("ocsp", responder_cert, "ocsp-responder"),
                ):
                    (directory / folder).mkdir(exist_ok=True)
                    (directory / folder / f"{kind}-{name}.pem").write_bytes(
                        cert.public_bytes(Encoding.PEM)
                    )
                    records.append(
                        CertificateRecord(
                            serial=cert.serial_number,
                            kind=kind,
                            role=role,
                            generation=name,
                            persona_id=None,
                            partition=None,
                            subject_id=None,
                            card_id=None,
                            previous_serial=None,
                            not_before=cert.not_valid_before_utc,
                            not_after=cert.not_valid_after_utc,
                            issued_at=now,
                            revoked_at=None,
                            reason=None,
                            der=cert.public_bytes(Encoding.DER),
                        )
                    )
                names[kind].append(name)
        meta = {
            "base_url": base_url,
            "created_at": now.isoformat(),
            "generations": json.dumps(names),
        }
        Store.create(directory / Store.FILENAME, meta, records)
        return cls.open(directory)

    # -- configuration ----------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self._store.meta()["base_url"]

    def set_base_url(self, base_url: str) -> None:
        """Change where the CRLs and the responder are served. Certificates issued
        afterwards carry the new URLs; ones issued before keep theirs."""
        self._store.set_meta("base_url", _check_base_url(base_url))

    def crl_url(self, kind: Kind | str, partition: str, *, generation: str | None = None) -> str:
        """Where the partition's CRL is served. With an older `generation`, the URL of
        the CRL that generation signs (its certificates name that one, so a relying
        party that insists on "CRL signed by the certificate's issuer key", as OpenSSL
        does, finds it)."""
        kind = as_kind(kind)
        url = f"{self.base_url}/crl/{kind}/{Partition.parse(partition).url_path()}.crl"
        gen = self.generation(kind, generation)
        if gen.name != self.generation(kind).name:
            url += f"?generation={gen.name}"
        return url

    def ocsp_url(self, kind: Kind | str) -> str:
        return f"{self.base_url}/ocsp/{as_kind(kind)}"

    def cps_url(self) -> str:
        return f"{self.base_url}/cps.html"

    def ca_url(self, kind: Kind | str, generation: str | None = None) -> str:
        gen = self.generation(kind, generation)
        return f"{self.base_url}/ca/{gen.kind}-{gen.name}.cer"

    # -- CAs ------------------------------------------------------------------------------
    def generations(self, kind: Kind | str) -> list[CaGeneration]:
        """All generations of a CA, oldest first; the last one issues new cards."""
        return list(self._generations[as_kind(kind)])

    def generation(self, kind: Kind | str, name: str | None = None) -> CaGeneration:
        generations = self._generations[as_kind(kind)]
        if name is None:
            return generations[-1]
        for generation in generations:
            if generation.name == name:
                return generation
        known = ", ".join(g.name for g in generations)
        raise UnknownGenerationError(f"no {kind} CA generation {name!r} (have {known})")

    def ca_certificate(self, kind: Kind | str, generation: str | None = None) -> bytes:
        return self.generation(kind, generation).der

    def trust_anchors(self, kind: Kind | str) -> list[bytes]:
        return [generation.der for generation in self.generations(kind)]

    def ocsp_responder_certificate(self, kind: Kind | str, generation: str | None = None) -> bytes:
        return self.generation(kind, generation).responder_certificate.public_bytes(Encoding.DER)

    # -- issuance -------------------------------------------------------------------------
    def _new_serial(self) -> int:
        serial = _random_serial()
        while self._store.is_taken(serial=serial):
            serial = _random_serial()
        return serial

    def _new_subject_id(self) -> str:
        while True:
            subject_id = "".join(
                secrets.choice(_SUBJECT_ID_ALPHABET) for _ in range(SUBJECT_ID_LENGTH)
            )
            if not self._store.is_taken(subject_id=subject_id):
                return subject_id

    def issue_card(
        self,
        persona: Persona,
        auth_public_key: rsa.RSAPublicKey,
        sign_public_key: rsa.RSAPublicKey,
        *,
        now: dt.datetime | None = None,
        generation: str | None = None,
    ) -> IssuedCertificates:
        """Certify one card's two keys (simulators.issuing.CardIssuer); a holder under 15
        gets no signature certificate. The certificates are recorded as one card.
        `generation` picks an older CA generation (default: the current one), e.g. to
        make a card that chains to the older anchor."""
        now = as_utc(now)
        for label, key in (("auth", auth_public_key), ("sign", sign_public_key)):
            if not isinstance(key, rsa.RSAPublicKey) or key.key_size != RSA_BITS:
                raise IssuanceError(f"the {label} key must be an RSA-{RSA_BITS} public key")
        try:
            partition = Partition(persona.prefecture_en, persona.city_en)
        except InvalidPartitionError as exc:
            raise IssuanceError(f"persona {persona.id}: {exc}") from exc
        card_id = uuid.uuid4().hex
        keys: tuple[tuple[Kind, rsa.RSAPublicKey], ...] = (("auth", auth_public_key),)
        if persona.sign_certificate:  # holders under 15 get no signature certificate
            keys += (("sign", sign_public_key),)
        with self._lock:
            records = [
                self._certify(
                    kind,
                    persona,
                    public_key,
                    partition,
                    now=now,
                    generation=generation,
                    card_id=card_id,
                    previous=self._store.latest_card_certificate(persona.id, kind),
                )
                for kind, public_key in keys
            ]
            self._store.insert(records)
        sign_ca = self.generation(
            "sign", records[1].generation if len(records) > 1 else generation
        ).der
        return IssuedCertificates(
            auth_cert=records[0].der,
            sign_cert=records[1].der if len(records) > 1 else None,
            auth_ca_cert=self.generation("auth", records[0].generation).der,
            sign_ca_cert=sign_ca,
            issuer_key=self.issuer_admin_public_key(),
        )

    def _certify(
        self,
        kind: Kind,
        persona: Persona,
        public_key: rsa.RSAPublicKey,
        partition: Partition,
        *,
        now: dt.datetime,
        generation: str | None,
        card_id: str,
        previous: CertificateRecord | None,
    ) -> CertificateRecord:
        """Build and describe one card certificate (not yet stored)."""
        gen = self.generation(kind, generation)
        if not gen.certificate.not_valid_before_utc <= now:
            raise IssuanceError(f"{kind} CA generation {gen.name} is not valid yet")
        # A certificate never outlives its CA.
        not_after = min(
            card_certificate_not_after(now, persona.birth_date), gen.certificate.not_valid_after_utc
        )
        if not_after <= now:
            raise IssuanceError(f"{kind} CA generation {gen.name} has expired")
        request = CardCertificateRequest(
            kind=kind,
            subject_id=self._new_subject_id(),
            serial=self._new_serial(),
            public_key=public_key,
            not_before=now,
            not_after=not_after,
            partition=partition,
            prefecture=persona.prefecture,
            city=persona.city,
            crl_url=self.crl_url(kind, partition.id, generation=gen.name),
            ocsp_url=self.ocsp_url(kind),
            cps_url=self.cps_url(),
            name=persona.name,
            sex=persona.sex,
            birth_date=persona.birth_date.strftime("%Y%m%d"),
            address=persona.address,
        )
        certificate = build_card_certificate(request, gen.certificate, gen.key)
        return CertificateRecord(
            serial=request.serial,
            kind=kind,
            role="card",
            generation=gen.name,
            persona_id=persona.id,
            partition=partition.id,
            subject_id=request.subject_id,
            card_id=card_id,
            previous_serial=None if previous is None else previous.serial,
            not_before=now,
            not_after=not_after,
            issued_at=now,
            revoked_at=None,
            reason=None,
            der=certificate.public_bytes(Encoding.DER),
        )

    # -- the issuer's side of the card's admin commands (a model: admin_protocol.py) ---
    def _admin_key(self) -> ec.EllipticCurvePrivateKey:
        """The issuer's administration key (EC P-256), made on first use so that PKI
        directories from before it existed gain one. Cards keep its public half."""
        with self._lock:
            if self._admin_key_cache is not None:
                return self._admin_key_cache
            path = self.directory / "keys" / ADMIN_KEY_FILE
            if not path.exists():
                _write_private(path, _ec_key_pem(ec.generate_private_key(ec.SECP256R1())))
            loaded = load_pem_private_key(path.read_bytes(), None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                raise PkiStateError(f"{path} is not an EC key")
            self._admin_key_cache = loaded
            return loaded

    def issuer_admin_public_key(self) -> bytes:
        """SubjectPublicKeyInfo DER of the administration key, written into new cards."""
        return (
            self._admin_key()
            .public_key()
            .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        )

    def answer_card_challenge(self, challenge: bytes) -> bytes:
        """EXTERNAL AUTHENTICATE's data for a card's GET CHALLENGE: ECDSA P-256 over the
        domain-separated challenge, raw r || s (64 bytes)."""
        if not MIN_CHALLENGE_LENGTH <= len(challenge) <= 256:
            raise IssuanceError("a card challenge is 8 to 256 bytes")
        der = self._admin_key().sign(issuer_auth_message(challenge), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def new_pop_nonce(self) -> bytes:
        """A fresh nonce for a card's key generation; certify_generated_key accepts each
        one once (kept in memory: a nonce lives for one counter operation)."""
        nonce = secrets.token_bytes(32)
        with self._lock:
            self._pop_nonces.add(nonce)
        return nonce

    def certify_generated_key(
        self,
        holder: Persona,
        kind: Kind | str,
        generated: bytes,
        nonce: bytes,
        *,
        replaces: int,
        now: dt.datetime | None = None,
        generation: str | None = None,
    ) -> tuple[bytes, bytes]:
        """Certify a key the card generated on itself, for `holder` as the register
        knows them now (the sign certificate carries these basic 4 facts; the partition
        comes from the holder's address), on the same card as certificate `replaces`.

        `generated` is GENERATE ASYMMETRIC KEY PAIR's whole answer: the public key and
        the new key's signature over this PKI's `nonce` (proof of possession). Refused
        (IssuanceError): an unknown or used nonce, a signature that does not verify,
        not RSA-2048 / e=65537, `replaces` of another kind or another holder, or already
        revoked. Returns (certificate DER, issuing CA DER). The old certificate stays
        good until the caller revokes it once the card holds the new one."""
        kind = as_kind(kind)
        now = as_utc(now)
        with self._lock:
            if nonce not in self._pop_nonces:
                raise IssuanceError("unknown or already used proof-of-possession nonce")
            self._pop_nonces.discard(nonce)
        public_key = verify_possession(generated, nonce)
        old = self.record(int(replaces))
        if old.role != "card" or old.kind != kind:
            raise IssuanceError(f"serial {replaces} is not a {kind} card certificate")
        if old.persona_id != holder.id:
            raise IssuanceError(f"serial {replaces} was issued to another holder")
        if old.revoked:
            raise IssuanceError(f"serial {replaces} is revoked ({old.reason})")
        try:
            partition = Partition(holder.prefecture_en, holder.city_en)
        except InvalidPartitionError as exc:
            raise IssuanceError(f"persona {holder.id}: {exc}") from exc
        with self._lock:
            record = self._certify(
                kind,
                holder,
                public_key,
                partition,
                now=now,
                generation=generation,
                card_id=old.card_id or uuid.uuid4().hex,
                previous=old,
            )
            self._store.insert([record])
        return record.der, self.generation(kind, record.generation).der

    # -- the index ------------------------------------------------------------------------
    def record(self, serial: int) -> CertificateRecord:
        record = self._store.get(serial)
        if record is None:
            raise UnknownSerialError(serial)
        return record

    def card_certificates(self, serial: int) -> list[CertificateRecord]:
        """Both certificates of the card that `serial` belongs to (証明書紐付け)."""
        record = self.record(serial)
        if record.card_id is None:
            return [record]
        return self._store.card_certificates(record.card_id)

    def paired_serial(self, serial: int) -> int | None:
        """The serial of the other certificate (auth <-> sign) on the same card. After
        a renewal on the same card the card has several of each kind: the latest one
        issued of the other kind is its partner."""
        record = self.record(serial)
        others = [r for r in self.card_certificates(serial) if r.kind != record.kind]
        return max(others, key=lambda r: r.issued_at).serial if others else None

    def previous_serial(self, serial: int) -> int | None:
        """The same holder's certificate of the same kind on the card before this one
        (新旧シリアル番号紐付け), or None for a first card."""
        return self.record(serial).previous_serial

    def successors(self, serial: int) -> list[CertificateRecord]:
        """Every certificate issued to replace `serial`, oldest first (the other side of
        previous_serial; more than one when a renewal was interrupted and redone)."""
        return self._store.successors(int(serial))

    def issued(self, kind: Kind | str | None = None) -> list[CertificateRecord]:
        return self._store.card_records(None if kind is None else as_kind(kind))

    # -- revocation -----------------------------------------------------------------------
    def revoke(
        self, serial: int, reason: str | x509.ReasonFlags, *, at: dt.datetime | None = None
    ) -> CertificateRecord:
        """Revoke a certificate this PKI issued. `reason` is a JPKI event ("move",
        "renewal", "loss", "death", "return") or an RFC 5280 CRLReason name.

        Revocation is final: revoking a revoked serial raises AlreadyRevokedError (the
        first reason and time stand). An unknown serial raises UnknownSerialError."""
        flag = parse_reason(reason)
        return self._store.revoke(int(serial), as_utc(at), flag.value)

    def revoke_card(
        self, serial: int, reason: str | x509.ReasonFlags, *, at: dt.datetime | None = None
    ) -> list[CertificateRecord]:
        """Revoke every not-yet-revoked certificate of the card `serial` belongs to (loss,
        death, return and renewal end both certificates)."""
        flag = parse_reason(reason)
        moment = as_utc(at)
        return [
            self._store.revoke(record.serial, moment, flag.value)
            for record in self.card_certificates(serial)
            if record.revoked_at is None
        ]

    def status(self, serial: int, *, now: dt.datetime | None = None) -> CertificateStatus:
        """good / revoked (reason, time) / unknown (never issued here), at `now`. A
        revocation dated after `now` has not happened yet at `now`."""
        moment = as_utc(now)
        record = self._store.get(int(serial))
        if record is None:
            return CertificateStatus(serial=int(serial), state="unknown")
        revoked = record.revoked_at is not None and record.revoked_at <= moment
        return CertificateStatus(
            serial=record.serial,
            state="revoked" if revoked else "good",
            kind=record.kind,
            role=record.role,
            reason=record.reason if revoked else None,
            revoked_at=record.revoked_at if revoked else None,
            not_after=record.not_after,
            expired=moment > record.not_after,
        )

    # -- CRLs -----------------------------------------------------------------------------
    def partitions(self, kind: Kind | str) -> list[str]:
        """Partitions ("<prefecture_en>/<city_en>") that have certificates of `kind`."""
        return self._store.partitions(as_kind(kind))

    def crl(
        self,
        kind: Kind | str,
        partition: str,
        *,
        now: dt.datetime | None = None,
        fresh: bool = False,
        generation: str | None = None,
    ) -> bytes:
        """The partition's current CRL (DER), signed by the current CA generation, or by
        `generation`. Every CRL of a partition lists every revocation in it, whichever
        generation issued the certificate (so no signer's CRL can make a revoked
        certificate look good); CRLNumber rises across them.

        A CRL is reissued, with the next CRLNumber, when what it states changed (a
        revocation in the partition, a new base URL), when half its validity has passed,
        when `now` lies before its thisUpdate (an injected clock went back), or when
        `fresh` is asked for; otherwise the stored one is served again unchanged."""
        kind = as_kind(kind)
        part = Partition.parse(partition)
        moment = as_utc(now)
        signer = self.generation(kind, generation)
        url = self.crl_url(kind, part.id, generation=generation)
        revoked = [
            r
            for r in self._store.revoked_in(kind, part.id)
            if r.revoked_at is not None and r.revoked_at <= moment
        ]
        key = content_key(signer.name, [url], revoked)
        with self._store.crl_update(kind, part.id, signer.name) as slot:
            current = slot.current
            if (
                current is not None
                and not fresh
                and current.content_key == key
                and current.this_update <= moment < current.this_update + self.crl_validity / 2
            ):
                return current.der
            number = slot.next_number
            der = build_crl(
                kind=kind,
                partition=part,
                url=url,
                number=number,
                this_update=moment,
                next_update=moment + self.crl_validity,
                revoked=revoked,
                ca_cert=signer.certificate,
                ca_key=signer.key,
            )
            slot.new = StoredCrl(number, moment, moment + self.crl_validity, key, der)
            return der

    def crl_for_url(self, url: str, *, now: dt.datetime | None = None) -> bytes:
        """The CRL that a certificate's distribution point URL names, in process (what
        `serve` answers at that URL). Only the path and query are read, so URLs from
        before a base-URL change still resolve."""
        parts = urlsplit(url)
        rest = parts.path.removeprefix("/crl/")
        kind_text, _, partition_path = rest.partition("/")
        if rest == parts.path or not partition_path.endswith(".crl"):
            raise UnknownUrlError(f"{url}: not a CRL URL of this PKI (/crl/<kind>/...crl)")
        query = parse_qs(parts.query)
        generations = query.pop("generation", [None])
        if query or len(generations) != 1:
            raise UnknownUrlError(f"{url}: unexpected query")
        partition = Partition.from_url_path(partition_path.removesuffix(".crl"))
        return self.crl(kind_text, partition.id, now=now, generation=generations[0])

    # -- OCSP -----------------------------------------------------------------------------
    def ocsp_response(
        self,
        request_der: bytes,
        *,
        now: dt.datetime | None = None,
        kind: Kind | str | None = None,
    ) -> bytes:
        """Answer an RFC 6960 OCSP request (DER in, DER out). `kind` limits the answer to
        one CA (the /ocsp/<kind> endpoint); a certificate of any other CA, or a serial
        the named CA generation never issued, is "unknown". Malformed input gets a
        malformedRequest response, never an exception."""
        kinds = KINDS if kind is None else (as_kind(kind),)
        generations = [
            ocsp_core.ResponderGeneration(
                kind=g.kind,
                name=g.name,
                ca_certificate=g.certificate,
                responder_certificate=g.responder_certificate,
                responder_key=g.responder_key,
            )
            for k in kinds
            for g in self._generations[k]
        ]
        return ocsp_core.respond(
            request_der,
            generations=generations,
            fallback=[g for g in generations if g.kind == kinds[0]][-1],
            lookup=self._ocsp_status,
            now=as_utc(now),
            validity=self.ocsp_validity,
        )

    def _ocsp_status(
        self, issuer: ocsp_core.ResponderGeneration, serial: int, now: dt.datetime
    ) -> ocsp_core.SingleStatus:
        record = self._store.get(serial)
        if record is None or record.kind != issuer.kind or record.generation != issuer.name:
            return ocsp_core.SingleStatus("unknown")
        if record.revoked_at is not None and record.revoked_at <= now:
            return ocsp_core.SingleStatus(
                "revoked", record.revoked_at, x509.ReasonFlags(str(record.reason))
            )
        return ocsp_core.SingleStatus("good")
