"""Each error code exits with the error table's number (terminal/codes.py, documented in
the README) in every command that can raise it. The failures are real: wrong, blocked
and malformed PINs on software cards, broken card files, a missing test PKI, an
unreachable database, revoked, foreign and malformed certificates."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner

from simulators.card import SoftwareCard
from simulators.personas import get_persona
from simulators.pki import TestPki
from terminal.cli.main import app
from terminal.codes import exit_code

runner = CliRunner()
PERSONA = get_persona("yamada-taro")
UNREACHABLE_DB = "postgresql+psycopg://u:p@127.0.0.1:1/none"


@pytest.fixture
def home(tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(pki_dir, home / "pki")
    for name in ("MYNATERM_DATABASE_URL", "MYNATERM_DB_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MYNATERM_HOME", str(home))
    (home / "doc.txt").write_bytes(b"a document")
    return home


@pytest.fixture
def card(home: Path, card_templates: dict[str, SoftwareCard]) -> Path:
    path = home / "taro.card"
    card_templates[PERSONA.id].copy().save(path)
    return path


def invoke(args: list[str], pin: str = "", new_pin: str = "") -> Result:
    # `issue` and `renew` take several PINs (issue 10): the right auth PIN, and `pin` as
    # the sign PIN they are tested with.
    env = {
        "MYNATERM_PIN": pin,
        "MYNATERM_NEW_PIN": new_pin,
        "MYNATERM_AUTH_PIN": PERSONA.pins.auth,
        "MYNATERM_SIGN_PIN": pin,
    }
    return runner.invoke(app, [*args, "--json"], env=env)


def assert_exits(result: Result, code: str) -> None:
    assert result.exit_code == exit_code(code), result.output
    assert json.loads(result.stdout)["error"]["code"] == code, result.output


# (command after `--card FILE`, which PIN it asks for). Each reads or verifies that PIN.
PIN_COMMANDS: list[tuple[list[str], str]] = [
    (["pin", "verify", "auth"], "auth"),
    (["pin", "verify", "sign"], "sign"),
    (["pin", "change", "auth"], "auth"),
    (["cert", "read", "sign"], "sign"),
    (["info"], "cardinfo"),
    (["pkey", "sign", "{home}/doc.txt", "--key", "auth"], "auth"),
    (["pkey", "sign", "{home}/doc.txt", "--key", "sign"], "sign"),
    (["auth", "respond", "--challenge", "abc", "--origin", "https://portal.example"], "auth"),
    (["sign", "{home}/doc.txt", "--out", "{home}/doc.p7s"], "sign"),
    (["issue", "--persona", PERSONA.id, "--face-to-face"], "sign"),
    (["login"], "auth"),
]
WRONG = {"auth": "9999", "sign": "WRONG123", "cardinfo": "9999"}
MALFORMED = {"auth": "12x4", "sign": "abc", "cardinfo": "12"}
RIGHT = {"auth": PERSONA.pins.auth, "sign": PERSONA.pins.sign, "cardinfo": PERSONA.pins.cardinfo}


def _args(command: list[str], home: Path) -> list[str]:
    return [part.format(home=home) for part in command]


def _ids(commands: list[tuple[list[str], str]]) -> list[str]:
    return [
        " ".join(c[:2]) + (f" {c[3]}" if len(c) > 3 and c[0] == "pkey" else "") for c, _ in commands
    ]


@pytest.mark.parametrize(("command", "kind"), PIN_COMMANDS, ids=_ids(PIN_COMMANDS))
def test_wrong_pin_exits_pin_incorrect(
    home: Path, card: Path, command: list[str], kind: str
) -> None:
    result = invoke(["--card", str(card), *_args(command, home)], pin=WRONG[kind], new_pin="5678")
    assert_exits(result, "PIN_INCORRECT")
    assert json.loads(result.stdout)["error"]["remaining"] >= 1


@pytest.mark.parametrize(("command", "kind"), PIN_COMMANDS, ids=_ids(PIN_COMMANDS))
def test_malformed_pin_exits_pin_format_and_spends_no_try(
    home: Path, card: Path, command: list[str], kind: str
) -> None:
    result = invoke(
        ["--card", str(card), *_args(command, home)], pin=MALFORMED[kind], new_pin="5678"
    )
    assert_exits(result, "PIN_FORMAT")
    pins = json.loads(invoke(["--card", str(card), "pin", "status"]).stdout)["pins"]
    row = next(row for row in pins if row["pin"] == kind)
    assert row["remaining"] == row["max"]


def _block(card: Path, kind: str) -> None:
    for _ in range(8):
        result = invoke(["--card", str(card), "pin", "verify", kind], pin=WRONG[kind])
        if result.exit_code == exit_code("PIN_BLOCKED"):
            return
        assert result.exit_code == exit_code("PIN_INCORRECT"), result.output
    raise AssertionError(f"the {kind} PIN did not block")


@pytest.mark.parametrize(("command", "kind"), PIN_COMMANDS, ids=_ids(PIN_COMMANDS))
def test_blocked_pin_exits_pin_blocked(
    home: Path, card: Path, command: list[str], kind: str
) -> None:
    _block(card, kind)
    result = invoke(["--card", str(card), *_args(command, home)], pin=RIGHT[kind], new_pin="5678")
    assert_exits(result, "PIN_BLOCKED")


CARD_COMMANDS = [
    ["pin", "status"],
    ["cert", "read", "auth"],
    *[command for command, _ in PIN_COMMANDS],
]


@pytest.mark.parametrize("command", CARD_COMMANDS, ids=[" ".join(c[:2]) for c in CARD_COMMANDS])
def test_card_commands_on_a_broken_card_file_exit_card_file(home: Path, command: list[str]) -> None:
    junk = home / "junk.card"
    junk.write_text("{}")
    for card in (junk, home / "missing.card"):
        result = invoke(
            ["--card", str(card), *_args(command, home)], pin=RIGHT["sign"], new_pin="5678"
        )
        assert_exits(result, "CARD_FILE")


@pytest.mark.parametrize("command", CARD_COMMANDS, ids=[" ".join(c[:2]) for c in CARD_COMMANDS])
def test_card_commands_without_a_card_exit_usage(home: Path, command: list[str]) -> None:
    assert_exits(invoke(_args(command, home), pin=RIGHT["auth"]), "USAGE")


@pytest.mark.parametrize(
    "command",
    [
        ["issue", "--persona", PERSONA.id, "--face-to-face"],
        ["login"],
        ["renew", "--old-serial", "1", "--face-to-face"],
    ],
)
def test_flows_without_a_test_pki_exit_pki_state(
    home: Path, card: Path, command: list[str]
) -> None:
    shutil.rmtree(home / "pki")
    assert_exits(invoke(["--card", str(card), *command], pin=RIGHT["sign"]), "PKI_STATE")


STORE_COMMANDS: list[Callable[[Path], list[str]]] = [
    lambda card: ["audit", "verify", "--db", UNREACHABLE_DB],
    lambda card: ["audit", "list", "--db", UNREACHABLE_DB],
    lambda card: ["link", "show", "--person", "1", "--db", UNREACHABLE_DB],
    lambda card: ["revoke", "12345", "--reason", "loss", "--db", UNREACHABLE_DB],
    lambda card: [
        "--card",
        str(card),
        "issue",
        "--persona",
        PERSONA.id,
        "--face-to-face",
        "--db",
        UNREACHABLE_DB,
    ],
    lambda card: ["--card", str(card), "login", "--db", UNREACHABLE_DB],
]


@pytest.mark.parametrize(
    "make",
    STORE_COMMANDS,
    ids=["audit verify", "audit list", "link show", "revoke", "issue", "login"],
)
def test_store_commands_on_an_unreachable_database_exit_store_unavailable(
    home: Path, card: Path, make: Callable[[Path], list[str]]
) -> None:
    assert_exits(invoke(make(card), pin=RIGHT["sign"]), "STORE_UNAVAILABLE")


def test_unknown_serial_exits_unknown_serial(home: Path) -> None:
    assert_exits(invoke(["revoke", "12345", "--reason", "loss"]), "UNKNOWN_SERIAL")
    assert_exits(invoke(["link", "show", "--serial", "12345"]), "UNKNOWN_SERIAL")


def test_login_of_a_card_never_issued_exits_not_linked(home: Path, card: Path) -> None:
    assert_exits(invoke(["--card", str(card), "login"], pin=RIGHT["auth"]), "NOT_LINKED")


def _auth_certificate(card: Path, out: Path) -> str:
    """The card's auth certificate written to `out` (PEM); its serial."""
    read = invoke(["--card", str(card), "cert", "read", "auth"])
    assert read.exit_code == 0, read.output
    payload = json.loads(read.stdout)
    out.write_text(payload["pem"])
    return str(payload["serial"])


def test_revoked_certificates_exit_cert_revoked(home: Path) -> None:
    """verify-cert, issue and login refuse a revoked auth certificate with one number."""
    card = home / "own.card"  # certified by this home's PKI, so that it can revoke it
    SoftwareCard.create(PERSONA, TestPki.open(home / "pki")).save(card)
    cert = home / "auth.pem"
    serial = _auth_certificate(card, cert)
    issue = ["--card", str(card), "issue", "--persona", PERSONA.id, "--face-to-face"]
    issued = invoke(issue, pin=RIGHT["sign"])
    assert issued.exit_code == 0, issued.output
    revoked = runner.invoke(app, ["pki", "revoke", serial, "--reason", "loss", "--json"])
    assert revoked.exit_code == 0, revoked.output
    pki = TestPki.open(home / "pki")
    for partition in pki.partitions("auth"):  # the CRLs, held in the CLI's CRL store
        crl = home / "auth.crl"
        crl.write_bytes(pki.crl("auth", partition))
        assert invoke(["crl", "fetch", str(crl)]).exit_code == 0
    assert_exits(invoke(["verify-cert", str(cert), "--kind", "auth"]), "CERT_REVOKED")
    assert_exits(invoke(["--card", str(card), "login"], pin=RIGHT["auth"]), "CERT_REVOKED")
    again = invoke(issue, pin=RIGHT["sign"])
    assert_exits(again, "CERT_REVOKED")


def test_foreign_and_malformed_certificates(home: Path, card: Path, tmp_path: Path) -> None:
    cert = home / "auth.pem"
    _auth_certificate(card, cert)
    other = TestPki.open_or_create(tmp_path / "other-pki")
    anchors = tmp_path / "other.pem"
    anchors.write_bytes(
        b"".join(
            x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)
            for der in other.trust_anchors("auth")
        )
    )
    assert_exits(
        invoke(["verify-cert", str(cert), "--kind", "auth", "--anchors", str(anchors)]),
        "CERT_UNTRUSTED",
    )
    junk = home / "junk.cer"
    junk.write_bytes(b"\x30\x82\x01")
    assert_exits(invoke(["verify-cert", str(junk)]), "CERT_MALFORMED")
