"""Clear errors instead of tracebacks: PC/SC commands without pyscard name the extra to
install; verify-pdf keeps pyHanko's internal tracebacks off stderr (summarised, at
debug in the log) and prints nothing there with --json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulators.card import SoftwareCard
from simulators.personas import get_persona
from simulators.pki import TestPki
from terminal.codes import exit_code
from tests.jpki.test_pdf import minimal_pdf

ROOT = Path(__file__).resolve().parents[2]


def mynaterm(
    *args: str, env: dict[str, str], block_pyscard: bool = False, pin: str = ""
) -> subprocess.CompletedProcess[str]:
    prelude = "import sys\n" + ("sys.modules['smartcard'] = None\n" if block_pyscard else "")
    code = prelude + "from terminal.cli.main import app\napp(sys.argv[1:])\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**env, "MYNATERM_PIN": pin},
    )


@pytest.mark.parametrize(
    "args", [["readers"], ["watch", "--timeout", "1"], ["--reader", "x", "pin", "status"]]
)
def test_pcsc_commands_without_pyscard_name_the_extra(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "MYNATERM_HOME": str(tmp_path)}
    as_json = mynaterm(*args, "--json", env=env, block_pyscard=True)
    assert as_json.returncode == exit_code("PCSC_NOT_INSTALLED"), as_json.stderr
    error = json.loads(as_json.stdout)["error"]
    assert (
        error["code"] == "PCSC_NOT_INSTALLED" and "pip install 'mynaterm[pcsc]'" in error["message"]
    )
    assert as_json.stderr == ""
    human = mynaterm(*args, env=env, block_pyscard=True)
    assert human.returncode == exit_code("PCSC_NOT_INSTALLED")
    assert "mynaterm[pcsc]" in " ".join(human.stderr.split()) and "Traceback" not in human.stderr


def test_verify_pdf_of_a_revoked_signer_is_quiet_on_stderr(tmp_path: Path, pki_dir: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(pki_dir, home / "pki")
    env = {**os.environ, "MYNATERM_HOME": str(home)}
    persona = get_persona("yamada-taro")
    card = home / "taro.card"
    SoftwareCard.create(persona, TestPki.open(home / "pki")).save(card)
    source, signed = tmp_path / "in.pdf", tmp_path / "signed.pdf"
    source.write_bytes(minimal_pdf())
    made = mynaterm(
        "--card",
        str(card),
        "sign-pdf",
        str(source),
        str(signed),
        "--json",
        env=env,
        pin=persona.pins.sign,
    )
    assert made.returncode == 0, made.stderr
    assert made.stderr == ""
    serial = json.loads(
        mynaterm("--card", str(card), "cert", "read", "auth", "--json", env=env).stdout
    )["serial"]
    revoked = mynaterm("pki", "revoke", serial, "--reason", "loss", "--card", "--json", env=env)
    assert revoked.returncode == 0, revoked.stdout + revoked.stderr

    as_json = mynaterm("verify-pdf", str(signed), "--json", env=env)
    assert as_json.stderr == "", as_json.stderr
    assert as_json.returncode == exit_code("CERT_REVOKED")
    assert json.loads(as_json.stdout)["error"]["code"] == "CERT_REVOKED"
    human = mynaterm("verify-pdf", str(signed), env=env)
    assert human.returncode == exit_code("CERT_REVOKED")
    assert "Traceback" not in human.stderr and "revoked" in human.stderr
    assert len(human.stderr.strip().splitlines()) <= 3  # one error line (wrapped), no trace
