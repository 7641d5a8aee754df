"""Verified CRLs held per (partition, CA generation), indexed for exact lookup and
persisted so a restart needs no CRL parsing.

Accepting a CRL checks, once: size cap, DER shape, signature over the raw TBS bytes by a
candidate CA generation (chosen by AKI, confirmed by signature), issuer name, CRLNumber
not lower than the one held, thisUpdate not in the future beyond the skew, nextUpdate not
passed, and the issuing distribution point naming the requested partition. Lookups check
freshness again at their own instant: past nextUpdate means "cannot decide".
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtensionOID

from jpki.clock import as_utc
from jpki.validation.crlindex import CrlIndex, CrlInfo, IndexFileError, Revoked
from jpki.validation.crlparse import RawCrl, split_crl
from jpki.validation.der import DerError
from jpki.validation.errors import LIBRARY_PARSE_ERRORS, CrlError
from jpki.validation.signatures import signature_valid
from jpki.validation.trust import TrustAnchor, TrustStore, anchors_of

_UNDERSTOOD = {
    ExtensionOID.CRL_NUMBER,
    ExtensionOID.ISSUING_DISTRIBUTION_POINT,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.ISSUER_ALTERNATIVE_NAME,
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    ExtensionOID.FRESHEST_CRL,
}
COMPLETE = ""  # partition id of a CRL without an issuing distribution point


def partition_id(partition: str | x509.Name | None) -> str:
    """The key a partition is held under: the RFC 4514 string of its directoryName."""
    if partition is None:
        return COMPLETE
    return _name_id(partition) if isinstance(partition, x509.Name) else partition


@functools.lru_cache(maxsize=4096)
def _name_id(name: x509.Name) -> str:
    return name.rfc4514_string()  # a few microseconds: too slow for every lookup


_utc = as_utc


def _epoch(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class CrlStore:
    """Thread-safe: loads serialise on a lock; lookups read an immutable index that a
    later load replaces (never mutates), so a reader finishes on the index it took."""

    def __init__(
        self,
        directory: str | Path | None = None,
        *,
        max_bytes: int = 200 * 1024 * 1024,
        max_entries: int = 5_000_000,
        clock_skew: timedelta = timedelta(minutes=5),
        index_key: bytes | None = None,
        trust: TrustStore | Iterable[TrustAnchor] | None = None,
    ) -> None:
        """`index_key` (from the configuration, never from the store directory) keys the
        digest of persisted indexes, so a restart can use them without re-reading the
        CRL. Without it, or when an index fails its check, the signed CRL kept next to it
        is verified again against `trust` (and any anchors seen by `load`) and the index
        rebuilt: an index file is never believed on its own."""
        if index_key is not None and len(index_key) < 16:
            raise ValueError("the CRL index key must be at least 16 bytes")
        self.directory = Path(directory) if directory is not None else None
        self._index_key = index_key
        self._anchors: dict[bytes, TrustAnchor] = {}
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.clock_skew = clock_skew
        self._skew_seconds = clock_skew.total_seconds()
        self._held: dict[tuple[str, str], CrlIndex] = {}
        self._lock = threading.Lock()
        if trust is not None:
            self._remember(anchors_of(_as_store(trust)))

    # --- accepting a CRL -----------------------------------------------------------

    def load(
        self,
        crl_der: bytes,
        issuer_candidates: TrustStore | Iterable[TrustAnchor],
        *,
        partition: str | x509.Name | None = None,
        at: datetime | None = None,
    ) -> CrlInfo:
        """Verify `crl_der` and hold it. `partition` (the directoryName the certificate's
        distribution point names) must equal the CRL's IDP; None accepts the CRL's own IDP
        (or a complete CRL). Raises CrlError with a precise reason_code."""
        candidates = anchors_of(_as_store(issuer_candidates))
        self._remember(candidates)
        data = bytes(crl_der)
        raw, info = self._verify(data, candidates, partition, _utc(at), check_fresh=True)
        key = (info.partition, info.issuer_key_id)
        with self._lock:
            held = self._check_number(key, info.crl_number, info.sha256)
        if held is not None:
            return held.info  # the same CRL again
        # Parsing a national CRL takes seconds: do it outside the lock, then re-check the
        # number (another thread may have loaded a newer CRL meanwhile) before swapping.
        index = self._build(raw, info)
        with self._lock:
            held = self._check_number(key, info.crl_number, info.sha256)
            if held is not None:
                return held.info
            self._persist(key, index, data)
            self._held[key] = index
        return index.info

    def _verify(
        self,
        data: bytes,
        candidates: tuple[TrustAnchor, ...],
        partition: str | x509.Name | None,
        now: datetime,
        *,
        check_fresh: bool,
    ) -> tuple[RawCrl, CrlInfo]:
        """Every check of a CRL but the CRLNumber order; the info has no entry count yet."""
        if len(data) > self.max_bytes:
            raise CrlError(
                f"CRL of {len(data)} bytes exceeds the cap of {self.max_bytes}",
                reason_code="CRL_TOO_LARGE",
            )
        try:
            raw = split_crl(data)
            header = x509.load_der_x509_crl(raw.header_only())
            # cryptography parses lazily: touch every part now so a malformed one is a
            # CrlError here, not a ValueError later.
            extensions = header.extensions
            _ = header.issuer, header.signature_hash_algorithm
            _ = header.signature_algorithm_parameters
        except LIBRARY_PARSE_ERRORS as exc:  # DerError is a ValueError
            raise CrlError(f"CRL does not parse: {exc}", reason_code="CRL_MALFORMED") from exc
        if raw.signature_algorithm != raw.tbs_signature_algorithm:
            raise CrlError(
                "signature algorithms inside and outside the TBS differ",
                reason_code="CRL_MALFORMED",
            )
        anchor = self._signer(raw, header, candidates)
        crl_partition = self._check_extensions(extensions, header.issuer, partition)
        number = extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        if raw.next_update is None:
            raise CrlError("CRL has no nextUpdate", reason_code="CRL_MALFORMED")
        this_update, next_update = _epoch(raw.this_update), _epoch(raw.next_update)
        if check_fresh:
            _check_fresh(this_update, next_update, now, self.clock_skew)
        info = CrlInfo(
            partition=crl_partition,
            issuer=header.issuer.rfc4514_string(),
            issuer_key_id=anchor.key_id.hex(),
            crl_number=number,
            this_update=this_update,
            next_update=next_update,
            entries=0,
            sha256=hashlib.sha256(data).hexdigest(),
        )
        return raw, info

    def _remember(self, candidates: Iterable[TrustAnchor]) -> None:
        """Anchors seen in loads: a persisted CRL is re-verified against them after a
        restart when its index cannot be trusted on its own."""
        with self._lock:
            for anchor in candidates:
                self._anchors.setdefault(anchor.certificate.fingerprint(hashes.SHA256()), anchor)

    def _check_number(self, key: tuple[str, str], number: int, sha: str) -> CrlIndex | None:
        """The held index when it is this very CRL; None when `number` is new and higher.
        Raises CRL_NUMBER_REGRESSION otherwise. Call with the lock held."""
        held = self._get(key)
        if held is None:
            return None
        if held.info.sha256 == sha:
            return held
        if number <= held.info.crl_number:
            raise CrlError(
                f"CRLNumber {number} is not higher than the held {held.info.crl_number}",
                reason_code="CRL_NUMBER_REGRESSION",
            )
        return None

    def _signer(
        self,
        raw: RawCrl,
        header: x509.CertificateRevocationList,
        candidates: tuple[TrustAnchor, ...],
    ) -> TrustAnchor:
        named = [a for a in candidates if a.certificate.subject == header.issuer]
        if not named:
            raise CrlError(
                f"CRL issuer {header.issuer.rfc4514_string()} is not a trusted CA",
                reason_code="CRL_ISSUER",
            )
        try:
            aki = header.extensions.get_extension_for_class(
                x509.AuthorityKeyIdentifier
            ).value.key_identifier
        except x509.ExtensionNotFound:
            aki = None
        if aki is not None:
            named = [a for a in named if a.key_id == aki]
            if not named:
                raise CrlError(
                    f"no trusted CA generation with key id {aki.hex()}", reason_code="CRL_ISSUER"
                )
        tbs = cast(bytes, raw.tbs_bytes)  # memoryview: hash the signed bytes in place
        for anchor in named:
            if signature_valid(
                anchor.certificate.public_key(),
                raw.signature,
                tbs,
                header.signature_hash_algorithm,
                header.signature_algorithm_parameters,
            ):
                if not _may_sign_crls(anchor):
                    raise CrlError("CA key usage lacks cRLSign", reason_code="CRL_ISSUER")
                return anchor
        raise CrlError("CRL signature does not verify", reason_code="CRL_SIGNATURE")

    @staticmethod
    def _check_extensions(
        extensions: x509.Extensions, issuer: x509.Name, partition: str | x509.Name | None
    ) -> str:
        """The partition id the CRL covers, after checking it is a complete,
        direct CRL of end-entity certificates for what was asked."""
        for ext in extensions:
            if ext.oid == ExtensionOID.DELTA_CRL_INDICATOR:
                raise CrlError("delta CRLs are not supported", reason_code="CRL_UNSUPPORTED")
            if ext.critical and ext.oid not in _UNDERSTOOD:
                raise CrlError(
                    f"unknown critical CRL extension {ext.oid.dotted_string}",
                    reason_code="CRL_UNSUPPORTED",
                )
        try:
            extensions.get_extension_for_class(x509.CRLNumber)
        except x509.ExtensionNotFound:
            raise CrlError("CRL has no CRLNumber", reason_code="CRL_MALFORMED") from None
        try:
            idp = extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
        except x509.ExtensionNotFound:
            idp = None
        covered = COMPLETE
        if idp is not None:
            if (
                idp.indirect_crl
                or idp.only_some_reasons
                or idp.only_contains_ca_certs
                or idp.only_contains_attribute_certs
            ):
                raise CrlError("CRL scope is indirect or partial", reason_code="CRL_UNSUPPORTED")
            names = [n.value for n in idp.full_name or () if isinstance(n, x509.DirectoryName)]
            if idp.relative_name is not None:  # nameRelativeToCRLIssuer (RFC 5280 5.2.5)
                names = [x509.Name([*issuer.rdns, idp.relative_name])]
            if len(names) != 1:
                raise CrlError(
                    "issuing distribution point names no single directoryName",
                    reason_code="CRL_UNSUPPORTED",
                )
            covered = names[0].rfc4514_string()
        if partition is not None and partition_id(partition) != covered:
            raise CrlError(
                f"CRL covers partition {covered or '(complete)'!r}, "
                f"not {partition_id(partition)!r}",
                reason_code="CRL_PARTITION",
            )
        return covered

    def _build(self, raw: RawCrl, info: CrlInfo) -> CrlIndex:
        # Millions of small objects: the cyclic GC only slows this down (no cycles made).
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            if raw.revoked is None:
                return CrlIndex.build_packed(info, [])
            # numpy takes ~0.1 s to import: only a CRL load pays it, not every CLI start.
            from jpki.validation.crlcolumns import parse_entries_columns

            columns = parse_entries_columns(raw.data, *raw.revoked, self.max_entries)
            return CrlIndex.build_columns(info, columns)
        except DerError as exc:
            raise CrlError(
                f"CRL entries malformed: {exc}",
                reason_code="CRL_UNSUPPORTED" if "not supported" in str(exc) else "CRL_MALFORMED",
            ) from exc
        except ValueError as exc:
            raise CrlError(f"CRL entries unusable: {exc}", reason_code="CRL_MALFORMED") from exc
        finally:
            if was_enabled:
                gc.enable()

    # --- persistence ---------------------------------------------------------------

    def _path(self, key: tuple[str, str]) -> Path | None:
        if self.directory is None:
            return None
        part = hashlib.sha256(key[0].encode()).hexdigest()[:24]
        return self.directory / f"{part}-{key[1][:40]}.crlidx"

    def _persist(self, key: tuple[str, str], index: CrlIndex, crl_der: bytes | None) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if crl_der is not None:  # the signed CRL first: the index is derived from it
            _write_atomic(path.with_suffix(".crl"), crl_der)
        _write_atomic(path, index.to_bytes(self._index_key))

    def _get(self, key: tuple[str, str]) -> CrlIndex | None:
        index = self._held.get(key)
        if index is not None:
            return index
        path = self._path(key)
        if path is None:
            return None
        index = self._from_disk(path)
        if index is None or (index.info.partition, index.info.issuer_key_id) != key:
            return None
        self._held[key] = index
        return index

    def _from_disk(self, path: Path) -> CrlIndex | None:
        """The index at `path` when its MAC proves it ours, else rebuilt from the signed
        CRL beside it; None when neither works (lookups then cannot decide). Call with
        the lock held."""
        if self._index_key is not None:
            try:
                return CrlIndex.from_bytes(path.read_bytes(), self._index_key)
            except (IndexFileError, OSError):
                pass  # missing, damaged, altered or under another key: rebuild
        crl_path = path.with_suffix(".crl")
        try:
            data = crl_path.read_bytes()
        except OSError:
            return None
        anchors = tuple(self._anchors.values())
        try:
            # Freshness is not checked here: lookups check it at their own instant.
            raw, info = self._verify(data, anchors, None, _utc(None), check_fresh=False)
            index = self._build(raw, info)
        except CrlError:
            return None
        if self._path((info.partition, info.issuer_key_id)) != path:
            return None  # a CRL of another partition or CA put under this name
        with contextlib.suppress(OSError):  # read-only store: the index answers from memory
            _write_atomic(path, index.to_bytes(self._index_key))
        return index

    def _keys_on_disk(self, partition: str) -> list[tuple[str, str]]:
        keys: set[tuple[str, str]] = set()
        if self.directory is not None:
            prefix = hashlib.sha256(partition.encode()).hexdigest()[:24]
            for path in self.directory.glob(f"{prefix}-*.crl*"):
                if path.suffix in (".crl", ".crlidx"):
                    keys.add((partition, path.stem.split("-", 1)[1]))
        return sorted(keys)

    # --- answering -----------------------------------------------------------------

    def index(
        self, partition: str | x509.Name | None, issuer_key_id: bytes | None = None
    ) -> CrlIndex:
        """The held index for the partition (and CA generation). Raises CrlError
        CRL_NOT_HELD when there is none, or when several generations hold the partition
        and `issuer_key_id` does not say which."""
        pid = partition_id(partition)
        if issuer_key_id is not None:
            key = (pid, issuer_key_id.hex())
            found = self._held.get(key)  # the hot path: no lock, no disk
            if found is None:
                with self._lock:
                    found = self._get(key)
        else:
            with self._lock:
                keys = sorted({k for k in self._held if k[0] == pid} | set(self._keys_on_disk(pid)))
                if len(keys) > 1:
                    raise CrlError(
                        f"several CA generations hold partition {pid!r}: name one",
                        reason_code="CRL_NOT_HELD",
                    )
                found = self._get(keys[0]) if keys else None
        if found is None:
            raise CrlError(
                f"no CRL held for partition {pid or '(complete)'!r}", reason_code="CRL_NOT_HELD"
            )
        return found

    def lookup(
        self,
        partition: str | x509.Name | None,
        serial: int,
        *,
        issuer_key_id: bytes | None = None,
        at: datetime | None = None,
    ) -> Revoked | None:
        """The revocation entry for `serial`, or None when a fresh, verified CRL of the
        partition does not list it. Raises CrlError when no such CRL is held or it is not
        fresh at `at` (default now): the caller cannot decide."""
        index = self.index(partition, issuer_key_id)
        now = time.time() if at is None else _utc(at).timestamp()
        # Compare epoch floats on the hot path; build datetimes only to report a failure.
        if not index.this_update_ts - self._skew_seconds <= now <= index.next_update_ts:
            _check_fresh(
                index.info.this_update,
                index.info.next_update,
                datetime.fromtimestamp(now, UTC),
                self.clock_skew,
            )
        return index.find(serial)

    def held(self) -> list[CrlInfo]:
        """Every CRL held (in memory or persisted, verified as `index` does)."""
        with self._lock:
            found = dict(self._held)
            if self.directory is not None:
                stems = {
                    p.with_suffix(".crlidx")
                    for p in self.directory.glob("*.crl*")
                    if p.suffix in (".crl", ".crlidx")
                }
                known = {self._path(k) for k in found}
                for path in sorted(stems - known):
                    index = self._from_disk(path)
                    if index is not None:
                        key = (index.info.partition, index.info.issuer_key_id)
                        self._held.setdefault(key, index)
                        found.setdefault(key, index)
        return [found[k].info for k in sorted(found)]


def _as_store(candidates: TrustStore | Iterable[TrustAnchor]) -> TrustStore | list[TrustAnchor]:
    return candidates if isinstance(candidates, TrustStore) else list(candidates)


def _may_sign_crls(anchor: TrustAnchor) -> bool:
    try:
        usage = anchor.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True  # no KeyUsage: not restricted (RFC 5280 4.2.1.3)
    return usage.crl_sign


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(path)  # atomic: a reader sees the old or the new file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_fresh(
    this_update: datetime, next_update: datetime, now: datetime, skew: timedelta
) -> None:
    if this_update > now + skew:
        raise CrlError(
            f"CRL thisUpdate {this_update.isoformat()} is in the future",
            reason_code="CRL_NOT_YET_VALID",
        )
    if now > next_update:
        raise CrlError(
            f"CRL expired at nextUpdate {next_update.isoformat()}", reason_code="CRL_EXPIRED"
        )
