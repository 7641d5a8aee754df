"""`mynaterm surface|card-info|common` on a software card file, as a script runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from jpki.constants import PinKind
from simulators.card import SoftwareCard
from simulators.card.issuer import card_issuer_for
from simulators.personas import Persona
from terminal.cli.main import app

runner = CliRunner()


@pytest.fixture
def card_file(tmp_path: Path, software_card: SoftwareCard) -> Path:
    path = tmp_path / "card.json"
    software_card.save(path)
    return path


@pytest.fixture
def trust(test_pki) -> Path:  # type: ignore[no-untyped-def]
    return card_issuer_for(test_pki).trust_directory


def run(card_file: Path, *args: str, code: str = ""):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--card", str(card_file), *args], env={"MYNATERM_PIN": code})


def test_surface_show_writes_the_images_and_says_valid(
    card_file: Path, persona: Persona, trust: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run(
        card_file,
        "surface", "show", "--code", "A", "--trust", str(trust), "--out", str(out), "--json",
        code=persona.my_number.reveal(),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["signature"] == "valid" and payload["issuer"] == "6000023/001"
    assert payload["birth_date"] == persona.birth_date.isoformat()
    photo = Image.open(out / "photo.png")
    assert photo.mode == "L" and photo.size == (
        payload["photo"]["width"],
        payload["photo"]["height"],
    )
    assert (out / "photo.jp2").read_bytes()[4:8] == b"jP  "
    assert Image.open(out / "name.png").mode == "1"
    assert persona.my_number.reveal() not in result.stdout


def test_surface_verify_without_trust_fails_and_never_says_valid(
    card_file: Path, persona: Persona, tmp_path: Path
) -> None:
    result = run(
        card_file, "surface", "verify", "--code", "B", "--trust", str(tmp_path / "none"), "--json",
        code=persona.code_b,
    )  # fmt: skip
    assert result.exit_code != 0
    assert json.loads(result.stdout)["error"]["code"] == "CARD_ISSUER_UNTRUSTED"


def test_surface_photo_with_code_b(
    card_file: Path, persona: Persona, trust: Path, tmp_path: Path
) -> None:
    result = run(
        card_file, "surface", "photo", "--code", "B", "--out", str(tmp_path), "--trust", str(trust),
        code=persona.code_b,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "photo.png").size[0] > 100


def test_wrong_code_b_is_one_try_and_a_bad_format_none(card_file: Path, persona: Persona) -> None:
    bad_format = run(card_file, "card-info", "--code", "B", "--json", code="12")
    assert bad_format.exit_code == 2
    assert json.loads(bad_format.stdout)["error"]["code"] == "PIN_FORMAT"
    wrong = persona.code_b[:-4] + ("0000" if persona.security_code != "0000" else "1111")
    result = run(card_file, "card-info", "--code", "B", "--json", code=wrong)
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["remaining"] == 9
    assert SoftwareCard.load(card_file).pin_remaining(PinKind.CARD_INFO_CODE_B) == 9


def test_card_info_with_codes_and_the_common_record(card_file: Path, persona: Persona) -> None:
    result = run(card_file, "card-info", "--code", "A", "--json", code=persona.my_number.reveal())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["my_number"] == persona.my_number.masked
    basic = json.loads(
        run(card_file, "card-info", "--code", "B", "--json", code=persona.code_b).stdout
    )
    assert basic["name"] == persona.name and basic["address"] == persona.address
    common = json.loads(run(card_file, "common", "--json").stdout)
    assert common == {
        "serial": persona.card_serial,
        "municipality": persona.municipality_code,
        "expiry": persona.card_expiry.isoformat(),
    }
    age = json.loads(run(card_file, "surface", "age", "--json", code=persona.era_birth_date).stdout)
    assert age["birth_date"] == persona.birth_date.isoformat()
