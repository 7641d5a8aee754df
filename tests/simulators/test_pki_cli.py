"""`mynaterm pki ...` end to end: init, issue, revoke, status, list, serve."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from simulators.pki import TestPki
from terminal.cli.main import app
from terminal.codes import exit_code
from tests.simulators.test_pki_support import card_key, clean_pki_dir, copy_pki, issue

__all__ = ["clean_pki_dir"]

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def _json(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out = _run(*args, "--json")
    return code, json.loads(out)


@pytest.fixture
def pki_copy(clean_pki_dir: Path, tmp_path: Path) -> Path:
    return copy_pki(clean_pki_dir, tmp_path / "pki").directory


def test_init_creates_then_reports_the_existing_pki(tmp_path: Path) -> None:
    directory = tmp_path / "fresh"
    code, first = _json(
        "pki", "init", "--dir", str(directory), "--base-url", "http://127.0.0.1:8999"
    )
    assert code == 0
    assert first["created"] is True
    assert first["base_url"] == "http://127.0.0.1:8999"
    assert first["cas"]["auth"]["ocsp_url"] == "http://127.0.0.1:8999/ocsp/auth"
    generations = first["cas"]["sign"]["generations"]
    assert len(generations) == 2 and generations[-1]["current"]
    for g in generations:
        cert = x509.load_pem_x509_certificate(Path(g["certificate"]).read_bytes())
        assert str(cert.serial_number) == g["serial"]
    code, again = _json("pki", "init", "--dir", str(directory))
    assert code == 0 and again["created"] is False
    assert again["cas"]["sign"]["generations"] == generations
    code, out = _run("pki", "init", "--dir", str(directory))
    assert code == 0 and "http://127.0.0.1:8999/ocsp/auth" in out
    code, moved = _json(
        "pki", "init", "--dir", str(directory), "--base-url", "http://127.0.0.1:9001/"
    )
    assert (code, moved["created"], moved["base_url"]) == (0, False, "http://127.0.0.1:9001")
    assert TestPki.open(directory).ocsp_url("auth") == "http://127.0.0.1:9001/ocsp/auth"


def test_issue_revoke_status_list(pki_copy: Path, tmp_path: Path) -> None:
    keys = {}
    for index, name in enumerate(("auth", "sign")):
        path = tmp_path / f"{name}-pub.pem"
        path.write_bytes(
            card_key(index)
            .public_key()
            .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        )
        keys[name] = path
    out_dir = tmp_path / "certs"
    code, issued = _json(
        "pki", "issue", "--dir", str(pki_copy), "--persona", "sato-hanako",
        "--auth-key", str(keys["auth"]), "--sign-key", str(keys["sign"]), "--out", str(out_dir),
    )  # fmt: skip
    assert code == 0, issued
    auth = x509.load_pem_x509_certificate((out_dir / "auth.pem").read_bytes())
    assert str(auth.serial_number) == issued["auth_serial"]
    assert (out_dir / "sign-ca.pem").exists()

    code, status = _json("pki", "status", "--dir", str(pki_copy), issued["auth_serial"])
    assert (code, status["state"], status["kind"]) == (0, "good", "auth")
    code, revoked = _json(
        "pki", "revoke", "--dir", str(pki_copy), f"0x{auth.serial_number:x}",
        "--reason", "basic_facts_changed",
    )  # fmt: skip
    assert code == 0
    assert revoked["revoked"][0]["reason"] == "affiliationChanged"
    colon_hex = ":".join(f"{b:02X}" for b in auth.serial_number.to_bytes(8, "big"))
    code, status = _json("pki", "status", "--dir", str(pki_copy), colon_hex)
    assert (status["state"], status["reason"]) == ("revoked", "affiliationChanged")
    assert TestPki.open(pki_copy).status(auth.serial_number).state == "revoked"

    code, again = _json(
        "pki", "revoke", "--dir", str(pki_copy), issued["auth_serial"], "--reason", "loss"
    )
    assert code == exit_code("ALREADY_REVOKED") and again["error"]["code"] == "ALREADY_REVOKED"
    code, card = _json(
        "pki",
        "revoke",
        "--dir",
        str(pki_copy),
        issued["auth_serial"],
        "--reason",
        "death",
        "--card",
    )
    assert code == 0
    assert [r["serial"] for r in card["revoked"]] == [issued["sign_serial"]]
    assert card["revoked"][0]["reason"] == "cessationOfOperation"

    code, listing = _json("pki", "list", "--dir", str(pki_copy))
    rows = {row["serial"]: row for row in listing["certificates"]}
    assert rows[issued["auth_serial"]]["state"] == "revoked"
    assert rows[issued["sign_serial"]]["partition"] == "Osaka/Osaka-shi"


def test_cli_errors_have_codes_and_no_traceback(pki_copy: Path, tmp_path: Path) -> None:
    code, unknown = _json("pki", "revoke", "--dir", str(pki_copy), "12345", "--reason", "loss")
    assert code == exit_code("UNKNOWN_SERIAL") and unknown["error"]["code"] == "UNKNOWN_SERIAL"
    code, bad = _json("pki", "revoke", "--dir", str(pki_copy), "12345", "--reason", "stolen")
    assert code == 2 and bad["error"]["code"] == "BAD_REASON"
    # one vocabulary: the domain's names, in `pki revoke` as in `revoke`
    code, rfc = _json("pki", "revoke", "--dir", str(pki_copy), "12345", "--reason", "keyCompromise")
    assert (
        code == 2
        and rfc["error"]["code"] == "BAD_REASON"
        and "loss (keyCompromise)" in rfc["error"]["message"]
    )
    code, missing = _json("pki", "status", "--dir", str(tmp_path / "none"), "1")
    assert code == exit_code("PKI_STATE") and missing["error"]["code"] == "PKI_STATE"
    code, bad_url = _json("pki", "init", "--dir", str(tmp_path / "x"), "--base-url", "nope")
    assert code == 2 and bad_url["error"]["code"] == "USAGE"
    code, status = _json("pki", "status", "--dir", str(pki_copy), "99")
    assert code == 0 and status["state"] == "unknown"
    result = runner.invoke(app, ["pki", "status", "--dir", str(pki_copy), "zz"])
    assert result.exit_code == 2
    assert "is not decimal" in result.output
    not_a_key = tmp_path / "junk.pem"
    not_a_key.write_text("hello")
    result = runner.invoke(
        app,
        ["pki", "issue", "--dir", str(pki_copy), "--persona", "yamada-taro",
         "--auth-key", str(not_a_key), "--sign-key", str(not_a_key)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert not isinstance(result.exception, ValueError)
    code, persona = _json(
        "pki", "issue", "--dir", str(pki_copy), "--persona", "nobody",
        "--auth-key", str(not_a_key), "--sign-key", str(not_a_key),
    )  # fmt: skip
    assert code == exit_code("PERSONA") and persona["error"]["code"] == "PERSONA"


def test_serve_prints_urls_serves_them_and_stops_on_ctrl_c(pki_copy: Path) -> None:
    pki = TestPki.open(pki_copy)
    auth, _ = issue(pki)
    pki.revoke(auth.serial_number, "loss")
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from terminal.cli.main import run; run()",
         "pki", "serve", "--dir", str(pki_copy), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match, first + (process.stderr.read() if process.poll() is not None else "")
        url = match.group(0)
        crl = httpx.get(f"{url}/crl/auth/Tokyo/Chiyoda-ku.crl", timeout=10)
        assert crl.status_code == 200
        assert auth.serial_number in {r.serial_number for r in x509.load_der_x509_crl(crl.content)}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
