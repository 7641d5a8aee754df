"""Cardholder personas, read from the human-editable personas.toml."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from jpki.era import era_yymmdd
from jpki.mynumber import MyNumber

DEFAULT_PERSONAS_FILE = Path(__file__).with_name("personas.toml")
IDEOGRAPHIC_SPACE = "\u3000"


class PersonaError(ValueError):
    """The personas file is malformed or names an unknown persona."""

    code = "PERSONA"


@dataclass(frozen=True)
class TestPins:
    auth: str
    sign: str
    cardinfo: str

    def __repr__(self) -> str:  # PINs never reach a log, even test ones
        return "TestPins(<redacted>)"


@dataclass(frozen=True)
class Persona:
    id: str
    name: str
    birth_date: dt.date
    sex: str
    address: str
    prefecture: str
    city: str
    prefecture_en: str
    city_en: str
    my_number: MyNumber
    resident_code: str
    pins: TestPins
    card_expiry: dt.date
    security_code: str
    municipality_code: str
    # False for a card issued without a signature certificate (holders under 15).
    sign_certificate: bool = True

    @property
    def family_name(self) -> str:
        return self.name.split(IDEOGRAPHIC_SPACE, 1)[0]

    @property
    def given_name(self) -> str:
        return self.name.split(IDEOGRAPHIC_SPACE, 1)[-1]

    @property
    def era_birth_date(self) -> str:
        """The card-surface birth-date key (Japanese era YYMMDD)."""
        return era_yymmdd(self.birth_date)

    @property
    def code_b(self) -> str:
        """照合番号B: era birth date YYMMDD + expiry year YYYY + security code (14 digits)."""
        return f"{self.era_birth_date}{self.card_expiry.year:04d}{self.security_code}"

    @property
    def card_serial(self) -> str:
        """The common card AP's 15-digit card serial, fixed per persona (derived from the
        persona id: the personas file need not carry it)."""
        digest = hashlib.sha256(f"card-serial:{self.id}".encode()).digest()
        return f"{int.from_bytes(digest[:8], 'big') % 10**15:015d}"

    def __repr__(self) -> str:  # personal (if fictitious) data: keep reprs short
        return f"Persona(id={self.id!r})"

    def pins_from_env(self) -> TestPins:
        """The persona's PINs, overridden by MYNATERM_*_PIN when set."""
        return TestPins(
            auth=os.environ.get("MYNATERM_AUTH_PIN") or self.pins.auth,
            sign=(os.environ.get("MYNATERM_SIGN_PIN") or self.pins.sign).upper(),
            cardinfo=os.environ.get("MYNATERM_CARDINFO_PIN") or self.pins.cardinfo,
        )


def _parse(entry: dict[str, object]) -> Persona:
    try:
        pins = entry["pins"]
        assert isinstance(pins, dict)
        sex = str(entry["sex"])
        if sex not in ("1", "2", "9"):
            raise PersonaError(f"persona {entry.get('id')}: sex must be 1, 2 or 9")
        name = str(entry["name"])
        if IDEOGRAPHIC_SPACE not in name:
            raise PersonaError(f"persona {entry.get('id')}: separate names with U+3000")
        resident_code = str(entry["resident_code"])
        if len(resident_code) != 11 or not resident_code.isdigit():
            raise PersonaError(f"persona {entry.get('id')}: resident_code is 11 digits")
        birth_date = dt.date.fromisoformat(str(entry["birth_date"]))
        # Older personas files lack the card-face fields: documented defaults (expiry
        # 2035-01-01, security code 0000, Chiyoda-ku).
        card_expiry = dt.date.fromisoformat(str(entry.get("card_expiry", "2035-01-01")))
        security_code = str(entry.get("security_code", "0000"))
        if len(security_code) != 4 or not security_code.isdigit():
            raise PersonaError(f"persona {entry.get('id')}: security_code is 4 digits")
        municipality_code = str(entry.get("municipality_code", "13101"))
        if len(municipality_code) != 5 or not municipality_code.isdigit():
            raise PersonaError(f"persona {entry.get('id')}: municipality_code is 5 digits")
        sign_certificate = entry.get("sign_certificate", True)
        if not isinstance(sign_certificate, bool):
            raise PersonaError(f"persona {entry.get('id')}: sign_certificate is true or false")
        return Persona(
            id=str(entry["id"]),
            name=name,
            birth_date=birth_date,
            sex=sex,
            address=str(entry["address"]),
            prefecture=str(entry["prefecture"]),
            city=str(entry["city"]),
            prefecture_en=str(entry["prefecture_en"]),
            city_en=str(entry["city_en"]),
            my_number=MyNumber(str(entry["my_number"])),
            resident_code=resident_code,
            pins=TestPins(str(pins["auth"]), str(pins["sign"]).upper(), str(pins["cardinfo"])),
            card_expiry=card_expiry,
            security_code=security_code,
            municipality_code=municipality_code,
            sign_certificate=sign_certificate,
        )
    except (KeyError, TypeError, AssertionError, ValueError) as exc:
        if isinstance(exc, PersonaError):
            raise
        raise PersonaError(f"persona {entry.get('id', '?')}: {exc}") from exc


def load_personas(path: Path | None = None) -> list[Persona]:
    path = path or Path(os.environ.get("MYNATERM_PERSONAS", DEFAULT_PERSONAS_FILE))
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PersonaError(f"cannot read personas from {path}: {exc}") from exc
    personas = [_parse(entry) for entry in document.get("persona", [])]
    ids = [p.id for p in personas]
    if len(set(ids)) != len(ids):
        raise PersonaError("persona ids must be unique")
    return personas


def get_persona(persona_id: str, path: Path | None = None) -> Persona:
    for persona in load_personas(path):
        if persona.id == persona_id:
            return persona
    raise PersonaError(f"unknown persona {persona_id!r}")
