"""The resident register behind the symbol core (住民基本台帳ネットワークの本人確認情報):
for each resident-record code, the basic 4 facts and the My Number.

The register is loaded from the personas (simulators/personas.toml, or
$MYNATERM_PERSONAS), plus the residents of the TOML file named by
$MYNATERM_CORE_RESIDENTS when set (`[[resident]] resident_code, name, birth_date, sex,
address, my_number`), and can be edited in process (a move, a name change) for tests.

It answers one question, `match`: do these facts (as read from a card) belong to this
record? The answer is match / mismatch per field; no fact ever leaves the register.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from jpki.mynumber import InvalidMyNumberError, MyNumber
from simulators.core.errors import CoreConfigError, InvalidResidentCode, UnknownResident
from simulators.core.resident_code import check_resident_code

RESIDENTS_ENV = "MYNATERM_CORE_RESIDENTS"
FIELDS = ("name", "birth_date", "sex", "address", "my_number")
SEX_CODES = frozenset({"1", "2", "9"})
# The JPKI certificate profile codes "not applicable" as 3, the card-info applet and the
# register as 9 (ISO/IEC 5218); both mean the same.
_SEX_ALIASES = {"3": "9"}
# Dash-like characters typed or printed in addresses (丁目-番-号): hyphen, non-breaking
# hyphen, figure dash, en/em dash, horizontal bar, minus sign, full-width hyphen-minus,
# half-width katakana prolonged sound mark. Not U+30FC (ー), which is part of words.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\uff70"), "-")


class Verdict(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_GIVEN = "not_given"  # the caller did not present this field (My Number w/o PIN)


@dataclass(frozen=True)
class ResidentRecord:
    resident_code: str
    name: str
    birth_date: dt.date
    sex: str
    address: str
    my_number: MyNumber

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return "ResidentRecord(<personal data>)"


@dataclass(frozen=True)
class IdentityClaim:
    """Facts as read from a card. Any field may be absent (None); the basic 4 facts must
    all be present for a decision (see `complete`)."""

    name: str | None = None
    birth_date: str | None = None  # YYYYMMDD or YYYY-MM-DD
    sex: str | None = None
    address: str | None = None
    my_number: str | None = None

    def __repr__(self) -> str:
        given = [f for f in FIELDS if getattr(self, f) is not None]
        return f"IdentityClaim(<personal data: {', '.join(given)}>)"

    @property
    def complete(self) -> bool:
        return all(getattr(self, f) is not None for f in ("name", "birth_date", "sex", "address"))


# ---- normalisation (what real matching must forgive, and nothing more) ---------------


def normalize_name(value: str) -> str:
    """Names: U+3000 (ideographic space) and U+0020 are the same separator; runs of
    spaces collapse; leading/trailing spaces go. Characters are otherwise compared
    exactly: 髙 is not 高, 邉 is not 辺 (外字 and variant characters are out of scope)."""
    spaced = value.replace("\u3000", " ")
    return " ".join(spaced.split())


def normalize_address(value: str) -> str:
    """Addresses: full-width digits, Latin letters and spaces as their ASCII forms (NFKC
    applied to those characters only), dash-like characters as '-', spaces collapsed.
    Kanji numerals (二丁目) are not turned into digits (2丁目): the card and the register
    print the same notation."""
    out = []
    for char in value.translate(_DASHES):
        if "\uff01" <= char <= "\uff5e" or char == "\u3000":
            out.append(unicodedata.normalize("NFKC", char))
        else:
            out.append(char)
    return " ".join("".join(out).split())


def normalize_birth_date(value: str | dt.date) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", value).strip()
    for pattern in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def normalize_sex(value: str) -> str:
    code = unicodedata.normalize("NFKC", value).strip()
    return _SEX_ALIASES.get(code, code)


def normalize_my_number(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value).split())


def match_record(record: ResidentRecord, claim: IdentityClaim) -> dict[str, Verdict]:
    """Per field: does the claim agree with the record?"""

    def verdict(given: object, same: bool) -> Verdict:
        if given is None:
            return Verdict.NOT_GIVEN
        return Verdict.MATCH if same else Verdict.MISMATCH

    return {
        "name": verdict(
            claim.name,
            claim.name is not None and normalize_name(claim.name) == normalize_name(record.name),
        ),
        "birth_date": verdict(
            claim.birth_date,
            claim.birth_date is not None
            and normalize_birth_date(claim.birth_date) == record.birth_date,
        ),
        "sex": verdict(claim.sex, claim.sex is not None and normalize_sex(claim.sex) == record.sex),
        "address": verdict(
            claim.address,
            claim.address is not None
            and normalize_address(claim.address) == normalize_address(record.address),
        ),
        "my_number": verdict(
            claim.my_number,
            claim.my_number is not None
            and normalize_my_number(claim.my_number) == record.my_number.reveal(),
        ),
    }


# ---- the register ---------------------------------------------------------------------


def _record(entry: Mapping[str, object], source: str) -> ResidentRecord:
    try:
        code = check_resident_code(str(entry["resident_code"]))
        sex = str(entry["sex"])
        if sex not in SEX_CODES:
            raise ValueError("sex must be 1, 2 or 9")
        birth = entry["birth_date"]
        birth_date = birth if isinstance(birth, dt.date) else dt.date.fromisoformat(str(birth))
        return ResidentRecord(
            resident_code=code,
            name=str(entry["name"]),
            birth_date=birth_date,
            sex=sex,
            address=str(entry["address"]),
            my_number=MyNumber(str(entry["my_number"])),
        )
    except (KeyError, ValueError, TypeError, InvalidResidentCode, InvalidMyNumberError) as exc:
        raise CoreConfigError(f"{source}: bad resident entry: {exc}") from exc


class ResidentRegister:
    """Resident records by code. Thread-safe; edits are for test data."""

    def __init__(self, records: Iterable[ResidentRecord] = ()) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, ResidentRecord] = {}
        for record in records:
            self.add(record)

    @classmethod
    def from_personas(cls, personas_path: Path | None = None) -> ResidentRegister:
        """The personas' records, plus $MYNATERM_CORE_RESIDENTS when set."""
        from simulators.personas import PersonaError, load_personas

        try:
            personas = load_personas(personas_path)
        except PersonaError as exc:
            raise CoreConfigError(f"cannot load the resident register: {exc}") from exc
        register = cls(
            _record(
                {
                    "resident_code": p.resident_code,
                    "name": p.name,
                    "birth_date": p.birth_date,
                    "sex": p.sex,
                    "address": p.address,
                    "my_number": p.my_number.reveal(),
                },
                f"persona {p.id}",
            )
            for p in personas
        )
        extra = os.environ.get(RESIDENTS_ENV)
        if extra:
            register.load_file(Path(extra))
        return register

    def load_file(self, path: Path) -> None:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CoreConfigError(f"cannot read residents from {path}: {exc}") from exc
        for entry in document.get("resident", []):
            self.add(_record(entry, str(path)))

    def add(self, record: ResidentRecord) -> None:
        check_resident_code(record.resident_code)
        with self._lock:
            if record.resident_code in self._records:
                raise CoreConfigError("resident code is already on the register")
            if any(r.my_number == record.my_number for r in self._records.values()):
                raise CoreConfigError("My Number is already on the register")
            self._records[record.resident_code] = record

    def update(self, resident_code: str, **changes: object) -> ResidentRecord:
        """Change facts of a record (a move, a marriage): test data only."""
        unknown = set(changes) - {"name", "birth_date", "sex", "address"}
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)}")
        with self._lock:
            current = self._get(resident_code)
            updated = replace(current, **changes)  # type: ignore[arg-type]
            self._records[resident_code] = updated
            return updated

    def _get(self, resident_code: str) -> ResidentRecord:
        record = self._records.get(resident_code)
        if record is None:
            raise UnknownResident("no resident with that code is on the register")
        return record

    def get(self, resident_code: object) -> ResidentRecord:
        """The record; INVALID_RESIDENT_CODE / RESIDENT_CODE_CHECK_DIGIT for a malformed
        code, UNKNOWN_RESIDENT for one not on the register."""
        code = check_resident_code(resident_code)
        with self._lock:
            return self._get(code)

    def codes(self) -> list[str]:
        with self._lock:
            return sorted(self._records)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __repr__(self) -> str:
        return f"ResidentRegister(<{len(self)} records>)"
