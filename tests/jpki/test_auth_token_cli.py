"""The login and signature commands end to end on a software card, and PIN safety:
remaining tries reported, a blocked PIN refused before any VERIFY, VERIFY never re-sent.
Every APDU of each command is recorded to prove it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner

from card.protocol import CardChannel
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.personas import Persona
from simulators.pki import TestPki
from terminal.cli.context import CliState
from terminal.cli.main import app

ORIGIN = "https://portal.example.jp"
runner = CliRunner()


@dataclass
class RecordingConnection:
    """Passes APDUs to the software card and keeps a copy of each command."""

    inner: SoftwareCardConnection
    commands: list[bytes] = field(default_factory=list)

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.commands.append(bytes(apdu))
        return self.inner.transmit(apdu)

    def verifies_with_data(self) -> list[bytes]:
        """VERIFY commands that carry a PIN (INS 20 with Lc and data)."""
        return [c for c in self.commands if len(c) > 5 and c[1] == 0x20]

    def pin_status_reads(self) -> list[bytes]:
        return [c for c in self.commands if len(c) <= 5 and c[1] == 0x20]


@dataclass
class Terminal:
    """Runs `mynaterm` against one in-memory software card, recording each command's APDUs."""

    card: SoftwareCard
    home: Path
    pki_dir: Path
    last: RecordingConnection | None = None
    apdu_count: int = 0

    def run(self, *args: str, pin: str | None = None, card: bool = True):  # type: ignore[no-untyped-def]
        env = {"MYNATERM_HOME": str(self.home), "MYNATERM_PIN": pin or ""}
        prefix = ["--card", "in-memory"] if card else []
        return runner.invoke(app, [*prefix, *args], env=env)


@pytest.fixture
def terminal(
    software_card: SoftwareCard, tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Terminal:
    home = tmp_path / "home"
    home.mkdir()
    (home / "pki").symlink_to(pki_dir)
    term = Terminal(software_card, home, pki_dir)

    @contextmanager
    def channel(self: CliState, *, as_json: bool = False) -> Iterator[CardChannel]:
        term.last = RecordingConnection(SoftwareCardConnection(term.card))
        chan = CardChannel(term.last)  # type: ignore[arg-type]
        try:
            yield chan
        finally:
            term.apdu_count = chan.apdu_count

    monkeypatch.setattr(CliState, "channel", channel)
    return term


def challenge(term: Terminal, session: str | None = None) -> dict[str, str]:
    extra = ["--session", session] if session else []
    result = term.run("auth", "challenge", "--origin", ORIGIN, "--json", *extra, card=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def respond(term: Terminal, nonce: str, out: Path, pin: str):  # type: ignore[no-untyped-def]
    return term.run(
        "auth",
        "respond",
        "--challenge",
        nonce,
        "--origin",
        ORIGIN,
        "--out",
        str(out),
        "--json",
        pin=pin,
    )


def test_login_round_trip_sends_exactly_one_verify(
    terminal: Terminal, persona: Persona, tmp_path: Path
) -> None:
    issued = challenge(terminal)
    token = tmp_path / "token.json"
    result = respond(terminal, issued["nonce"], token, persona.pins.auth)
    assert result.exit_code == 0, result.output
    assert terminal.last is not None and len(terminal.last.verifies_with_data()) == 1
    assert persona.pins.auth not in result.output  # the PIN is never echoed

    verified = terminal.run(
        "auth",
        "verify",
        str(token),
        "--origin",
        ORIGIN,
        "--challenge",
        issued["nonce"],
        "--json",
        card=False,
    )
    assert verified.exit_code == 0, verified.output
    body = json.loads(verified.stdout)
    cert = x509.load_der_x509_certificate(terminal.card.auth_certificate)
    assert body["authenticated"] and body["serial"] == str(cert.serial_number)
    assert body["revocation"] == {"source": "ocsp", "status": "good"}

    again = terminal.run(
        "auth",
        "verify",
        str(token),
        "--origin",
        ORIGIN,
        "--challenge",
        issued["nonce"],
        "--json",
        card=False,
    )
    assert again.exit_code != 0
    assert json.loads(again.stdout)["error"]["code"] == "CHALLENGE_REPLAYED"


def test_verify_for_another_origin_fails(
    terminal: Terminal, persona: Persona, tmp_path: Path
) -> None:
    issued = challenge(terminal)
    token = tmp_path / "token.json"
    assert respond(terminal, issued["nonce"], token, persona.pins.auth).exit_code == 0
    result = terminal.run(
        "auth",
        "verify",
        str(token),
        "--origin",
        "https://evil.example",
        "--challenge",
        issued["nonce"],
        "--json",
        card=False,
    )
    assert result.exit_code != 0
    assert json.loads(result.stdout)["error"]["code"] == "ORIGIN_MISMATCH"


def test_wrong_pin_reports_remaining_tries_and_sends_one_verify(
    terminal: Terminal, tmp_path: Path
) -> None:
    issued = challenge(terminal)
    result = respond(terminal, issued["nonce"], tmp_path / "t.json", "0000")
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "PIN_INCORRECT" and error["remaining"] == 2
    assert terminal.last is not None and len(terminal.last.verifies_with_data()) == 1
    assert not (tmp_path / "t.json").exists()


def test_blocked_pin_is_reported_before_any_verify(terminal: Terminal, tmp_path: Path) -> None:
    issued = challenge(terminal)
    for remaining in (2, 1):
        result = respond(terminal, issued["nonce"], tmp_path / "t.json", "0000")
        assert json.loads(result.stdout)["error"]["remaining"] == remaining
    last_try = respond(terminal, issued["nonce"], tmp_path / "t.json", "0000")
    assert json.loads(last_try.stdout)["error"]["code"] == "PIN_BLOCKED"

    blocked = respond(terminal, issued["nonce"], tmp_path / "t.json", "1234")
    assert blocked.exit_code == 4, blocked.output
    assert json.loads(blocked.stdout)["error"]["code"] == "PIN_BLOCKED"
    assert terminal.last is not None
    assert terminal.last.verifies_with_data() == []  # the PIN was never sent
    assert len(terminal.last.pin_status_reads()) == 1
    assert terminal.apdu_count == 3  # SELECT applet, SELECT PIN EF, status


def test_format_error_spends_no_try(terminal: Terminal, tmp_path: Path) -> None:
    issued = challenge(terminal)
    result = respond(terminal, issued["nonce"], tmp_path / "t.json", "12345")
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["error"]["code"] == "PIN_FORMAT"
    assert terminal.last is not None and terminal.last.verifies_with_data() == []


def test_sign_and_verify_commands(
    terminal: Terminal, persona: Persona, tmp_path: Path, test_pki: TestPki
) -> None:
    document = tmp_path / "doc.txt"
    document.write_text("転入届\n", encoding="utf-8")
    signature = tmp_path / "doc.p7s"
    made = terminal.run(
        "sign", str(document), "--out", str(signature), "--json", pin=persona.pins.sign
    )
    assert made.exit_code == 0, made.output
    assert terminal.last is not None and len(terminal.last.verifies_with_data()) == 1

    checked = terminal.run(
        "verify", str(document), "--signature", str(signature), "--json", card=False
    )
    assert checked.exit_code == 0, checked.output
    body = json.loads(checked.stdout)
    assert body["valid"] and body["signer"]["name"] == persona.name

    document.write_text("転出届\n", encoding="utf-8")
    tampered = terminal.run(
        "verify", str(document), "--signature", str(signature), "--json", card=False
    )
    assert tampered.exit_code != 0
    assert json.loads(tampered.stdout)["error"]["code"] == "CMS_DIGEST_MISMATCH"


def test_sign_pdf_and_verify_pdf_commands(
    terminal: Terminal, persona: Persona, tmp_path: Path
) -> None:
    from tests.jpki.test_pdf import minimal_pdf

    source, target = tmp_path / "in.pdf", tmp_path / "out.pdf"
    source.write_bytes(minimal_pdf())
    made = terminal.run("sign-pdf", str(source), str(target), "--json", pin=persona.pins.sign)
    assert made.exit_code == 0, made.output
    assert terminal.last is not None and len(terminal.last.verifies_with_data()) == 1
    signatures = [c for c in terminal.last.commands if c[1] == 0x2A]
    assert len(signatures) == 1  # pyHanko's dry run never reached the card
    checked = terminal.run("verify-pdf", str(target), "--json", card=False)
    assert checked.exit_code == 0, checked.output
    [row] = json.loads(checked.stdout)["signatures"]
    assert row["ok"] and row["pyhanko_revocation_checked"] and not row["revoked"]
    cert = x509.load_der_x509_certificate(terminal.card.auth_certificate)
    assert row["serial"] != str(cert.serial_number)  # signed with the SIGN key, not AUTH
