"""The card commands of `mynaterm` on a software card file, as a script would run them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner

from jpki.constants import PinKind
from simulators.card import SoftwareCard
from simulators.personas import Persona
from terminal.cli.main import app

runner = CliRunner()


@pytest.fixture
def card_file(tmp_path: Path, software_card: SoftwareCard) -> Path:
    path = tmp_path / "card.json"
    software_card.save(path)
    return path


def run(
    card_file: Path,
    *args: str,
    pin: str | None = None,
    new_pin: str | None = None,
    stdin: str | None = None,
):  # type: ignore[no-untyped-def]
    env = {"MYNATERM_PIN": pin or "", "MYNATERM_NEW_PIN": new_pin or ""}
    return runner.invoke(app, ["--card", str(card_file), *args], env=env, input=stdin)


def test_cert_read_pem_and_json(card_file: Path, software_card: SoftwareCard) -> None:
    result = run(card_file, "cert", "read", "auth")
    assert result.exit_code == 0, result.output
    cert = x509.load_pem_x509_certificate(result.stdout.encode())
    assert cert.public_bytes(Encoding.DER) == software_card.auth_certificate
    as_json = json.loads(run(card_file, "cert", "read", "auth-ca", "--json").stdout)
    assert as_json["kind"] == "auth-ca" and as_json["pem"].startswith("-----BEGIN CERTIFICATE")


def test_sign_certificate_needs_pin(card_file: Path, persona: Persona) -> None:
    result = run(card_file, "cert", "read", "sign", "--json", pin=persona.pins.sign)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kind"] == "sign"


def test_pin_status_json(card_file: Path) -> None:
    result = run(card_file, "pin", "status", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["pin"]: r for r in json.loads(result.stdout)["pins"]}
    assert rows["auth"]["remaining"] == 3 and rows["sign"]["remaining"] == 5
    assert rows["cardinfo"]["remaining"] == 3


def test_wrong_pin_counts_persist_in_the_card_file(card_file: Path) -> None:
    result = run(card_file, "pin", "verify", "auth", "--json", pin="0001")
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "PIN_INCORRECT" and error["remaining"] == 2
    assert "0001" not in result.output
    assert SoftwareCard.load(card_file).pin_remaining(PinKind.AUTH) == 2


def test_pin_from_stdin_and_blocked_exit_code(card_file: Path) -> None:
    for _ in range(3):
        run(card_file, "pin", "verify", "auth", "--pin-stdin", stdin="0001\n")
    result = run(card_file, "pin", "verify", "auth", "--pin-stdin", stdin="0001\n")
    assert result.exit_code == 4 and "blocked" in result.output


def test_malformed_pin_is_refused_before_the_card(card_file: Path) -> None:
    result = run(card_file, "pin", "verify", "auth", "--json", pin="12x4")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "PIN_FORMAT"
    assert SoftwareCard.load(card_file).pin_remaining(PinKind.AUTH) == 3


def test_pin_change(card_file: Path, persona: Persona) -> None:
    result = run(card_file, "pin", "change", "auth", pin=persona.pins.auth, new_pin="7777")
    assert result.exit_code == 0, result.output
    assert run(card_file, "pin", "verify", "auth", pin="7777").exit_code == 0


def test_info_masks_the_number_unless_asked(card_file: Path, persona: Persona) -> None:
    masked = run(card_file, "info", "--json", pin=persona.pins.cardinfo)
    assert masked.exit_code == 0, masked.output
    payload = json.loads(masked.stdout)
    assert payload["my_number"] == persona.my_number.masked
    assert persona.my_number.reveal() not in masked.output
    assert payload["name"] == persona.name and payload["integrity"] == "ok"
    shown = json.loads(
        run(card_file, "info", "--json", "--show-number", pin=persona.pins.cardinfo).stdout
    )
    assert shown["my_number"] == persona.my_number.reveal()


def test_pkey_sign(
    card_file: Path, tmp_path: Path, persona: Persona, software_card: SoftwareCard
) -> None:
    document = tmp_path / "doc.txt"
    document.write_bytes(b"hello")
    signature_file = tmp_path / "doc.sig"
    result = run(
        card_file,
        "pkey",
        "sign",
        "--key",
        "sign",
        str(document),
        "--out",
        str(signature_file),
        "--json",
        pin=persona.pins.sign,
    )
    assert result.exit_code == 0, result.output
    public_key = x509.load_der_x509_certificate(software_card.sign_certificate).public_key()
    public_key.verify(signature_file.read_bytes(), b"hello", padding.PKCS1v15(), hashes.SHA256())


def test_no_card_selected_is_a_clear_error() -> None:
    result = runner.invoke(app, ["pin", "status", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "USAGE"
