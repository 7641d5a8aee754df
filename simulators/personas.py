"""Cardholder personas, read from the human-editable personas.toml."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

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

    @property
    def family_name(self) -> str:
        return self.name.split(IDEOGRAPHIC_SPACE, 1)[0]

    @property
    def given_name(self) -> str:
        return self.name.split(IDEOGRAPHIC_SPACE, 1)[-1]

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
        return Persona(
            id=str(entry["id"]),
            name=name,
            birth_date=dt.date.fromisoformat(str(entry["birth_date"])),
            sex=sex,
            address=str(entry["address"]),
            prefecture=str(entry["prefecture"]),
            city=str(entry["city"]),
            prefecture_en=str(entry["prefecture_en"]),
            city_en=str(entry["city_en"]),
            my_number=MyNumber(str(entry["my_number"])),
            resident_code=resident_code,
            pins=TestPins(str(pins["auth"]), str(pins["sign"]).upper(), str(pins["cardinfo"])),
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
