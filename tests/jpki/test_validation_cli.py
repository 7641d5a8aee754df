"""`mynaterm verify-cert` and `mynaterm crl fetch|show|lookup`: JSON output and exit
codes per error kind, on the real J-LIS certificate and on the test PKI over HTTP."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from simulators.personas import get_persona
from simulators.pki import PkiServer, TestPki, serve
from terminal.cli.main import app
from terminal.codes import exit_code

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def cli(*args: str, home: Path | None = None) -> tuple[int, dict | list]:  # type: ignore[type-arg]
    env = {"MYNATERM_HOME": str(home)} if home else {"MYNATERM_HOME": "/nonexistent-home"}
    result = runner.invoke(app, list(args), env=env)
    try:
        payload = json.loads(result.stdout)
    except json.JSONDecodeError:
        payload = {"raw": result.stdout}
    return result.exit_code, payload


REAL = ["--anchors", str(DATA / "auth_ca_2015.pem"), "--anchors", str(DATA / "auth_ca_2023.pem")]


def test_real_certificate_exit_codes() -> None:
    cert = str(DATA / "auth_real.pem")
    code, out = cli("verify-cert", cert, *REAL, "--at", "2020-01-01T00:00:00Z", "--json")
    assert code == exit_code("REVOCATION_UNKNOWN") and out["error"]["code"] == "REVOCATION_UNKNOWN"  # type: ignore[index]
    code, out = cli("verify-cert", cert, *REAL, "--at", "2020-01-01", "--soft-fail", "--json")
    assert code == 0 and out["valid"] is True  # type: ignore[index]
    assert out["revocation"]["status"] == "not-checked"  # type: ignore[index]
    assert "2015" in out["anchor"]  # type: ignore[index]
    code, out = cli("verify-cert", cert, *REAL, "--at", "2025-01-01", "--json")
    assert code == exit_code("CERT_EXPIRED") and out["error"]["code"] == "CERT_EXPIRED"  # type: ignore[index]
    code, out = cli(
        "verify-cert",
        cert,
        "--anchors",
        str(DATA / "auth_ca_2023.pem"),
        "--at",
        "2020-01-01",
        "--soft-fail",
        "--json",
    )
    assert code == exit_code("CERT_UNTRUSTED") and out["error"]["code"] == "CERT_UNTRUSTED"  # type: ignore[index]
    code, out = cli(
        "verify-cert", cert, *REAL, "--kind", "sign", "--at", "2020-01-01", "--soft-fail", "--json"
    )
    assert code == exit_code("CERT_UNTRUSTED")
    # without --anchors and without a test PKI: the shipped production anchors
    code, out = cli("verify-cert", cert, "--at", "2020-01-01", "--soft-fail", "--json")
    assert code == 0 and out["anchors_from"] == "J-LIS production anchors"  # type: ignore[index]


def test_malformed_and_usage(tmp_path: Path) -> None:
    junk = tmp_path / "junk.der"
    junk.write_bytes(b"\x30\x82\x01")
    code, out = cli("verify-cert", str(junk), *REAL, "--json")
    assert code == exit_code("CERT_MALFORMED") and out["error"]["code"] == "CERT_MALFORMED"  # type: ignore[index]
    code, _ = cli("verify-cert", str(tmp_path / "missing.der"), *REAL, "--json")
    assert code == 2
    code, _ = cli("verify-cert", str(DATA / "auth_real.pem"), *REAL, "--at", "yesterday")
    assert code == 2


@dataclass
class Home:
    path: Path
    pki: TestPki
    server: PkiServer
    auth: x509.Certificate


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    path = tmp_path_factory.mktemp("home")
    pki = TestPki.open_or_create(path / "pki")
    server = serve(pki, port=0)
    pki.set_base_url(server.url)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issued = pki.issue_card(get_persona("yamada-taro"), key.public_key(), key.public_key())
    try:
        yield Home(path, pki, server, x509.load_der_x509_certificate(issued.auth_cert))
    finally:
        server.stop()


def _crl_url(cert: x509.Certificate) -> str:
    dps = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return next(
        n.value
        for dp in dps
        for n in dp.full_name or ()
        if isinstance(n, x509.UniformResourceIdentifier)
    )


def test_crl_commands_and_verify_with_test_pki(home: Home, tmp_path: Path) -> None:
    cert_file = tmp_path / "auth.pem"
    from cryptography.hazmat.primitives.serialization import Encoding

    cert_file.write_bytes(home.auth.public_bytes(Encoding.PEM))
    serial = str(home.auth.serial_number)
    # nothing held yet: cannot decide
    code, out = cli("crl", "lookup", serial, "--json", home=home.path)
    assert code == exit_code("REVOCATION_UNKNOWN") and out["status"] == "unknown"  # type: ignore[index]
    code, out = cli("crl", "fetch", _crl_url(home.auth), "--json", home=home.path)
    assert code == 0, out
    partition = out["partition"]  # type: ignore[index]
    assert "CRLDP" in partition
    code, out = cli("crl", "show", "--json", home=home.path)
    assert code == 0 and [i["partition"] for i in out] == [partition]  # type: ignore[index]
    code, out = cli(
        "crl",
        "lookup",
        hex(home.auth.serial_number),
        "--partition",
        partition,
        "--json",
        home=home.path,
    )
    assert code == 0 and out["status"] == "not-listed"  # type: ignore[index]
    code, out = cli("verify-cert", str(cert_file), "--json", home=home.path)
    assert code == 0 and out["revocation"]["source"] == "crl"  # type: ignore[index]
    assert out["anchors_from"].startswith("test PKI")  # type: ignore[index]
    code, out = cli("verify-cert", str(cert_file), "--ocsp", "--json", home=home.path)
    assert code == 0 and out["revocation"]["source"] == "ocsp"  # type: ignore[index]

    home.pki.revoke(home.auth.serial_number, "loss")
    code, out = cli("verify-cert", str(cert_file), "--ocsp", "--json", home=home.path)
    assert code == exit_code("CERT_REVOKED") and out["error"]["source"] == "ocsp"  # type: ignore[index]
    code, out = cli(
        "crl", "fetch", _crl_url(home.auth), "--partition", partition, "--json", home=home.path
    )
    assert code == 0 and out["crl_number"] > 1  # type: ignore[index]
    code, out = cli("crl", "lookup", serial, "--json", home=home.path)
    assert code == exit_code("CERT_REVOKED") and out["answers"][0]["reason"] == "keyCompromise"  # type: ignore[index]
    code, out = cli("verify-cert", str(cert_file), "--json", home=home.path)
    assert code == exit_code("CERT_REVOKED") and out["error"]["source"] == "crl"  # type: ignore[index]
    # an explicit CRL file is used alone
    crl_file = tmp_path / "p.crl"
    crl_file.write_bytes(home.pki.crl("auth", home.pki.partitions("auth")[0]))
    code, out = cli("verify-cert", str(cert_file), "--crl", str(crl_file), "--json", home=home.path)
    assert code == exit_code("CERT_REVOKED")
    # a CRL of the wrong partition is refused by fetch
    code, out = cli(
        "crl",
        "fetch",
        str(crl_file),
        "--partition",
        "CN=Elsewhere,O=JPKI,C=JP",
        "--json",
        home=home.path,
    )
    assert code == exit_code("CRL_PARTITION") and out["error"]["code"] == "CRL_PARTITION"  # type: ignore[index]


def test_crl_lookup_never_believes_an_altered_index(home: Home) -> None:
    """Issue 14 #6 through the CLI: an index file changed on disk (entries dropped, the
    unkeyed digest recomputed) does not turn a revoked serial into "not listed": the
    store rebuilds it from the signed CRL kept beside it."""
    import dataclasses

    from jpki.validation.crlindex import CrlIndex
    from simulators.pki.errors import AlreadyRevokedError

    with contextlib.suppress(AlreadyRevokedError):  # the home is shared by the module
        home.pki.revoke(home.auth.serial_number, "loss")
    code, out = cli("crl", "fetch", _crl_url(home.auth), "--json", home=home.path)
    assert code == 0, out
    (index_file,) = (home.path / "crl").glob("*.crlidx")
    genuine = CrlIndex.from_bytes(index_file.read_bytes())
    forged = CrlIndex.build(dataclasses.replace(genuine.info, entries=0), [], [], [])
    index_file.write_bytes(forged.to_bytes())
    code, out = cli("crl", "lookup", str(home.auth.serial_number), "--json", home=home.path)
    assert code == exit_code("CERT_REVOKED"), out
