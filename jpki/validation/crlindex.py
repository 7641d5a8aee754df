"""A compact, exact, immutable lookup index of one CRL's entries, and its file form.

Serials are bucketed by width so JPKI's small serials (3-4 bytes) cost 4 bytes each:
  narrow: serial < 2**32 -> array('I');  medium: < 2**64 -> array('Q');
  wide: up to 21 bytes -> one blob of fixed 21-byte big-endian records.
Each bucket is sorted by serial, with revocation dates (uint32 epoch seconds) and reason
codes (one byte) in parallel arrays. Lookup is a binary search: no hashing, no
truncation, no false positives.
"""

from __future__ import annotations

import array
import bisect
import hashlib
import hmac
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import repeat
from operator import and_ as _and
from operator import rshift as _rshift
from typing import TYPE_CHECKING, Any

from jpki.validation.crlparse import DATE_SHIFT, NO_REASON, SERIAL_SHIFT

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from jpki.validation.crlcolumns import EntryColumns

WIDE_BYTES = 21
_MAGIC = b"JPKICRLX"
_VERSION = 1
_DIGEST = 32

REASON_NAMES = {
    0: "unspecified",
    1: "keyCompromise",
    2: "cACompromise",
    3: "affiliationChanged",
    4: "superseded",
    5: "cessationOfOperation",
    6: "certificateHold",
    8: "removeFromCRL",
    9: "privilegeWithdrawn",
    10: "aACompromise",
}


class IndexFileError(ValueError):
    """A persisted index file is unreadable, truncated or altered."""


@dataclass(frozen=True)
class CrlInfo:
    """What was verified about a CRL when it was accepted."""

    partition: str
    issuer: str
    issuer_key_id: str  # hex
    crl_number: int
    this_update: datetime
    next_update: datetime
    entries: int
    sha256: str  # of the CRL DER

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["this_update"] = self.this_update.isoformat()
        data["next_update"] = self.next_update.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrlInfo:
        return cls(
            partition=str(data["partition"]),
            issuer=str(data["issuer"]),
            issuer_key_id=str(data["issuer_key_id"]),
            crl_number=int(data["crl_number"]),
            this_update=datetime.fromisoformat(data["this_update"]),
            next_update=datetime.fromisoformat(data["next_update"]),
            entries=int(data["entries"]),
            sha256=str(data["sha256"]),
        )


@dataclass(frozen=True)
class Revoked:
    serial: int
    revoked_at: datetime
    reason: str | None  # RFC 5280 CRLReason name; None when the entry has no reasonCode


class _WideKeys(Sequence[bytes]):
    """Fixed-width records of a blob, seen as a sorted sequence for bisect."""

    def __init__(self, blob: bytes) -> None:
        self.blob = blob

    def __len__(self) -> int:
        return len(self.blob) // WIDE_BYTES

    def __getitem__(self, i: int) -> bytes:  # type: ignore[override]
        return self.blob[i * WIDE_BYTES : (i + 1) * WIDE_BYTES]


@dataclass(frozen=True)
class _Bucket:
    keys: array.array[int] | bytes
    dates: array.array[int]
    reasons: bytes

    @property
    def nbytes(self) -> int:
        keys = (
            len(self.keys)
            if isinstance(self.keys, bytes)
            else (self.keys.itemsize * len(self.keys))
        )
        return keys + self.dates.itemsize * len(self.dates) + len(self.reasons)


_KINDS = ("narrow", "medium", "wide")
_LIMIT = {"narrow": 1 << 32, "medium": 1 << 64, "wide": 1 << (8 * WIDE_BYTES)}
_FLOOR = {"narrow": 1, "medium": _LIMIT["narrow"], "wide": _LIMIT["medium"]}
_TYPECODE = {"narrow": "I", "medium": "Q"}


def _typed(code: str, data: bytes = b"") -> array.array[int]:
    arr = array.array(code)
    if data:
        arr.frombytes(data)
    return arr


for _code, _size in (("I", 4), ("Q", 8)):
    if array.array(_code).itemsize != _size:  # pragma: no cover - exotic platforms
        raise ImportError(f"array typecode {_code} is not {_size} bytes here")


class CrlIndex:
    """Immutable: a new CRL gives a new index; readers keep the one they hold."""

    def __init__(self, info: CrlInfo, buckets: dict[str, _Bucket]) -> None:
        self.info = info
        self.this_update_ts = info.this_update.timestamp()
        self.next_update_ts = info.next_update.timestamp()
        self._buckets = buckets
        self._narrow = buckets["narrow"]
        self._medium = buckets["medium"]
        self._wide = buckets["wide"]
        self._wide_view = (
            _WideKeys(self._wide.keys) if isinstance(self._wide.keys, bytes) else _WideKeys(b"")
        )

    @classmethod
    def build(
        cls, info: CrlInfo, serials: list[int], dates: list[int], reasons: list[int]
    ) -> CrlIndex:
        """An index of entries given as parallel columns (see build_packed)."""
        if not len(serials) == len(dates) == len(reasons):
            raise ValueError("entry columns differ in length")
        if dates and (min(dates) < 0 or max(dates) >= 1 << 32):
            raise ValueError("revocation date outside 1970..2106")
        if serials and (min(serials) <= 0 or max(serials) >= _LIMIT["wide"]):
            raise ValueError("serial not positive or longer than 21 bytes")
        packed = [
            (s << SERIAL_SHIFT) | (d << DATE_SHIFT) | r
            for s, d, r in zip(serials, dates, reasons, strict=True)
        ]
        return cls.build_packed(info, packed)

    @classmethod
    def build_packed(cls, info: CrlInfo, packed: list[int]) -> CrlIndex:
        """An index of entries packed as serial << 40 | date << 8 | reason (what
        crlparse.parse_entries_packed returns). Sorts `packed` in place: one C-level sort
        orders serials, dates and reasons together; the width buckets are then
        contiguous slices of it."""
        packed.sort()
        cut_medium = bisect.bisect_left(packed, _LIMIT["narrow"] << SERIAL_SHIFT)
        cut_wide = bisect.bisect_left(packed, _LIMIT["medium"] << SERIAL_SHIFT)
        parts = {
            "narrow": packed[:cut_medium],
            "medium": packed[cut_medium:cut_wide],
            "wide": packed[cut_wide:],
        }
        buckets = {kind: _packed_bucket(kind, part) for kind, part in parts.items()}
        return cls(CrlInfo(**{**info.__dict__, "entries": len(packed)}), buckets)

    @classmethod
    def build_columns(cls, info: CrlInfo, columns: EntryColumns) -> CrlIndex:
        """An index of entries as crlparse.parse_entries_columns returns them. Serials
        below 2**64 are ordered by numpy (skipped when the CRL is already in serial
        order); the few wider ones as packed ints. Same buckets as build_packed."""
        import numpy as np  # here, not at import time: only building an index needs it

        if not columns.serials.all():
            raise ValueError("serial not positive")
        small = columns.serials < np.uint64(_LIMIT["narrow"])
        buckets: dict[str, _Bucket] = {}
        for kind, mask, width in (("narrow", small, np.uint32), ("medium", ~small, np.uint64)):
            serials: NDArray[np.unsignedinteger[Any]] = columns.serials[mask].astype(width)
            dates, reasons = columns.dates[mask], columns.reasons[mask]
            order = _serial_order(serials, dates, reasons)
            if order is not None:
                serials, dates, reasons = serials[order], dates[order], reasons[order]
            buckets[kind] = _Bucket(
                _typed(_TYPECODE[kind], serials.tobytes()),
                _typed("I", dates.tobytes()),
                reasons.tobytes(),
            )
        buckets["wide"] = _packed_bucket("wide", sorted(columns.wide))
        return cls(CrlInfo(**{**info.__dict__, "entries": len(columns)}), buckets)

    def __len__(self) -> int:
        return self.info.entries

    @property
    def nbytes(self) -> int:
        """Bytes held by the lookup arrays (what a partition costs in memory)."""
        return sum(b.nbytes for b in self._buckets.values())

    def find(self, serial: int) -> Revoked | None:
        """The entry for `serial`, or None when the CRL does not list it."""
        if serial <= 0:
            return None
        if serial < 1 << 32:
            bucket, keys, probe = self._narrow, self._narrow.keys, serial
        elif serial < 1 << 64:
            bucket, keys, probe = self._medium, self._medium.keys, serial
        elif serial < 1 << (8 * WIDE_BYTES):
            return self._find_wide(serial)
        else:
            return None
        i = bisect.bisect_left(keys, probe)
        if i < len(keys) and keys[i] == probe:
            return self._entry(bucket, i, serial)
        return None

    def _find_wide(self, serial: int) -> Revoked | None:
        probe = serial.to_bytes(WIDE_BYTES, "big")
        i = bisect.bisect_left(self._wide_view, probe)
        if i < len(self._wide_view) and self._wide_view[i] == probe:
            return self._entry(self._wide, i, serial)
        return None

    @staticmethod
    def _entry(bucket: _Bucket, i: int, serial: int) -> Revoked:
        code = bucket.reasons[i]
        return Revoked(
            serial=serial,
            revoked_at=datetime.fromtimestamp(bucket.dates[i], UTC),
            reason=None if code == NO_REASON else REASON_NAMES.get(code, f"reason-{code}"),
        )

    # --- file form: header JSON + raw little-endian arrays + BLAKE2b digest -------------

    def to_bytes(self, key: bytes | None = None) -> bytes:
        """The file form; with `key` its digest is a MAC (keyed BLAKE2b) that only a
        holder of the key can recompute, so a changed file cannot pass as genuine."""
        sections: list[dict[str, Any]] = []
        body: list[bytes] = []
        offset = 0
        for kind in _KINDS:
            bucket = self._buckets[kind]
            for name, part in (
                ("keys", bucket.keys),
                ("dates", bucket.dates),
                ("reasons", bucket.reasons),
            ):
                raw = _le_bytes(part)
                sections.append(
                    {"bucket": kind, "name": name, "offset": offset, "length": len(raw)}
                )
                body.append(raw)
                offset += len(raw)
        header = json.dumps(
            {"info": self.info.to_json(), "sections": sections}, sort_keys=True
        ).encode()
        payload = (
            _MAGIC
            + _VERSION.to_bytes(2, "big")
            + len(header).to_bytes(4, "big")
            + header
            + b"".join(body)
        )
        return payload + _digest(payload, key)

    @classmethod
    def from_bytes(cls, data: bytes, key: bytes | None = None) -> CrlIndex:
        """Load a persisted index (one read, no CRL parsing). Raises IndexFileError.
        With `key` the digest must be the MAC under that key. Without one the digest only
        catches damage: anyone can recompute it, so such an index proves nothing."""
        if len(data) < 14 + _DIGEST or data[:8] != _MAGIC:
            raise IndexFileError("not a CRL index file")
        payload, digest = data[:-_DIGEST], data[-_DIGEST:]
        if not hmac.compare_digest(_digest(payload, key), digest):
            raise IndexFileError("index file digest mismatch (truncated, altered or other key)")
        if int.from_bytes(data[8:10], "big") != _VERSION:
            raise IndexFileError("unsupported index file version")
        hlen = int.from_bytes(data[10:14], "big")
        try:
            header = json.loads(data[14 : 14 + hlen])
            info = CrlInfo.from_json(header["info"])
            base = 14 + hlen
            parts: dict[tuple[str, str], bytes] = {}
            for sec in header["sections"]:
                start = base + int(sec["offset"])
                parts[(sec["bucket"], sec["name"])] = payload[start : start + int(sec["length"])]
            buckets = {}
            for kind in _KINDS:
                keys_raw = parts[(kind, "keys")]
                keys: array.array[int] | bytes = (
                    keys_raw if kind == "wide" else _from_le(_TYPECODE[kind], keys_raw)
                )
                buckets[kind] = _Bucket(
                    keys, _from_le("I", parts[(kind, "dates")]), parts[(kind, "reasons")]
                )
        except (KeyError, ValueError, TypeError) as exc:
            raise IndexFileError(f"index file header unusable: {exc}") from exc
        index = cls(info, buckets)
        counts = [len(b.reasons) for b in buckets.values()]
        if sum(counts) != info.entries or any(
            len(b.dates) != len(b.reasons) or _key_count(b) != len(b.reasons)
            for b in buckets.values()
        ):
            raise IndexFileError("index file sections disagree")
        return index


def _digest(payload: bytes, key: bytes | None) -> bytes:
    if key is None:
        return hashlib.blake2b(payload, digest_size=_DIGEST).digest()
    # BLAKE2b's keyed mode is a MAC (RFC 7693 section 2.9); the configured key, whatever
    # its length, is first reduced to a 64-byte MAC key under a purpose label.
    mac_key = hashlib.blake2b(key, digest_size=64, person=b"mynaterm-crlidx").digest()
    return hashlib.blake2b(payload, digest_size=_DIGEST, key=mac_key).digest()


def _packed_bucket(kind: str, part: list[int]) -> _Bucket:
    """A bucket of sorted packed entries whose serials all lie in `kind`'s range."""
    if part and not (
        _FLOOR[kind] << SERIAL_SHIFT <= part[0] <= part[-1] < _LIMIT[kind] << SERIAL_SHIFT
    ):
        raise ValueError(f"serial outside the {kind} range (zero, or longer than 21 bytes)")
    dates = _typed("I")
    dates.extend(map(_and, map(_rshift, part, repeat(DATE_SHIFT)), repeat(0xFFFFFFFF)))
    reasons = bytes(map(_and, part, repeat(0xFF)))
    serials = map(_rshift, part, repeat(SERIAL_SHIFT))
    keys: array.array[int] | bytes
    if kind == "wide":
        keys = b"".join(s.to_bytes(WIDE_BYTES, "big") for s in serials)
    else:
        keys = _typed(_TYPECODE[kind])
        keys.extend(serials)
    return _Bucket(keys, dates, reasons)


def _serial_order(
    serials: NDArray[np.unsignedinteger[Any]],
    dates: NDArray[np.uint32],
    reasons: NDArray[np.uint8],
) -> NDArray[np.intp] | None:
    """The permutation that sorts entries as the packed sort would (serial, then date,
    then reason), or None when they are already strictly in serial order: CRLs are
    often written that way, and an O(n) check is cheaper than any sort."""
    import numpy as np

    if len(serials) < 2 or bool((serials[1:] > serials[:-1]).all()):
        return None
    order = np.argsort(serials)
    ordered = serials[order]
    if bool((ordered[1:] == ordered[:-1]).any()):  # a serial listed twice: full key
        order = np.lexsort((reasons, dates, serials))
    return order


def _key_count(bucket: _Bucket) -> int:
    if isinstance(bucket.keys, bytes):
        return -1 if len(bucket.keys) % WIDE_BYTES else len(bucket.keys) // WIDE_BYTES
    return len(bucket.keys)


def _le_bytes(part: array.array[int] | bytes) -> bytes:
    if isinstance(part, bytes):
        return part
    if sys.byteorder == "big":  # pragma: no cover - files are little-endian everywhere
        part = array.array(part.typecode, part)
        part.byteswap()
    return part.tobytes()


def _from_le(code: str, raw: bytes) -> array.array[int]:
    arr = _typed(code, raw)
    if sys.byteorder == "big":  # pragma: no cover
        arr.byteswap()
    return arr
