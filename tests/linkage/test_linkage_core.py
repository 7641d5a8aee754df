"""The symbol core: keyed one-way symbols per agency, translation only inside the core
(see test_linkage_identity_core.py for the register, matching and the relay),
configuration from the environment, the HTTP API and its clients."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from linkage_helpers import TERMINAL_AGENCY, TOKENS, core_config

from simulators.core import (
    CoreConfigError,
    Forbidden,
    InvalidResidentCode,
    SymbolCore,
    Unauthenticated,
    UnknownAgency,
    load_core_config,
)
from simulators.core.app import create_core_app
from simulators.core.config import dev_token
from simulators.personas import Persona
from terminal.codes import exit_code
from terminal.dev.core_client import InProcessCoreClient
from terminal.linkage.core_client import CoreClient, CoreClientError, CoreUnavailable

AGENCIES = ["portal"]  # what a municipality may ask for besides its own symbol


def test_symbols_are_stable_per_agency_and_differ_between_agencies(
    core: SymbolCore, personas: list[Persona]
) -> None:
    taro, hanako = personas[0], personas[1]
    first = core.person_symbols(taro.resident_code, AGENCIES, caller=TERMINAL_AGENCY)
    again = core.person_symbols(taro.resident_code, reversed(AGENCIES), caller=TERMINAL_AGENCY)
    assert first == again  # same person, same symbol per agency
    assert set(first) == {TERMINAL_AGENCY, *AGENCIES}  # the caller's own symbol included
    assert len(set(first.values())) == len(first)  # a different symbol per agency
    other = core.person_symbols(hanako.resident_code, AGENCIES, caller=TERMINAL_AGENCY)
    assert not set(other.values()) & set(first.values())
    for symbol in first.values():
        assert len(symbol) == 32 and symbol.isalnum() and symbol.isupper()
        assert taro.resident_code not in symbol
    # Another agency's symbols differ too, though the municipality never sees them.
    tax = core._deriver.agency_symbol(core._deriver.linkage_symbol(taro.resident_code), "tax")
    assert tax not in first.values()
    # Another core (another master key) derives unrelated symbols.
    foreign = SymbolCore(core_config(master=b"\x07" * 32))
    assert not set(
        foreign.person_symbols(taro.resident_code, AGENCIES, caller=TERMINAL_AGENCY).values()
    ) & set(first.values())


def test_symbols_only_for_the_caller_and_the_portal(
    core: SymbolCore, personas: list[Persona]
) -> None:
    taro = personas[0]
    with pytest.raises(Forbidden):  # only the municipality turns resident codes to symbols
        core.person_symbols(taro.resident_code, [], caller="tax")
    with pytest.raises(Forbidden):  # another agency's symbol is never handed out
        core.person_symbols(taro.resident_code, ["tax"], caller=TERMINAL_AGENCY)
    with pytest.raises(UnknownAgency):
        core.person_symbols(taro.resident_code, ["police"], caller=TERMINAL_AGENCY)
    for bad in ("1000000001", "1000000001X", "１００００００００１４", 10000000014):
        with pytest.raises(InvalidResidentCode):
            core.person_symbols(bad, [], caller=TERMINAL_AGENCY)  # type: ignore[arg-type]
    with pytest.raises(Unauthenticated):
        core.authenticate("not-a-token")
    assert not hasattr(core, "translate")  # translation happens inside `relay` only


def test_index_survives_a_restart(tmp_path: Path, personas: list[Persona]) -> None:
    index = tmp_path / "index.db"
    first = SymbolCore(core_config(), index_path=index)
    symbols = first.person_symbols(personas[2].resident_code, [], caller=TERMINAL_AGENCY)
    first.close()
    second = SymbolCore(core_config(), index_path=index)
    # The restarted core still knows whom the municipality's symbol names.
    answers: list[str] = []
    second.register_responder("portal", lambda symbol, _req: answers.append(symbol) or {})
    second.relay(symbols[TERMINAL_AGENCY], "portal", {}, caller=TERMINAL_AGENCY)
    assert answers == [
        second.person_symbols(personas[2].resident_code, ["portal"], caller=TERMINAL_AGENCY)[
            "portal"
        ]
    ]
    second.close()
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    # The index keeps symbols only: no resident-record code in the file.
    assert personas[2].resident_code.encode() not in index.read_bytes()


def test_keys_come_from_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MYNATERM_CORE_MASTER_KEY", "MYNATERM_CORE_KEY_FILE", "MYNATERM_CORE_AGENCIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MYNATERM_HOME", str(tmp_path))
    with pytest.raises(CoreConfigError):
        load_core_config()
    monkeypatch.setenv("MYNATERM_CORE_MASTER_KEY", "ab" * 8)
    with pytest.raises(CoreConfigError):  # too short
        load_core_config()
    monkeypatch.setenv("MYNATERM_CORE_MASTER_KEY", "ab" * 32)
    with pytest.raises(CoreConfigError):  # agencies not configured
        load_core_config()
    agencies = tmp_path / "agencies.toml"
    agencies.write_text(f'[[agency]]\ncode = "portal"\nname = "P"\ntoken_sha256 = "{"0" * 64}"\n')
    monkeypatch.setenv("MYNATERM_CORE_AGENCIES", str(agencies))
    config = load_core_config()
    assert config.master_key == bytes.fromhex("ab" * 32) and config.agencies[0].code == "portal"
    assert "ab" * 32 not in repr(config)
    agencies.write_text('[[agency]]\ncode = "Bad Code"\n')
    with pytest.raises(CoreConfigError):
        load_core_config()


def test_dev_mode_generates_and_keeps_private_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, personas: list[Persona]
) -> None:
    for name in ("MYNATERM_CORE_MASTER_KEY", "MYNATERM_CORE_KEY_FILE", "MYNATERM_CORE_AGENCIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MYNATERM_HOME", str(tmp_path))
    first = SymbolCore.from_environment(dev=True)
    key_file = tmp_path / "core" / "master.key"
    for generated in (key_file, tmp_path / "core" / "tokens.toml"):
        assert stat.S_IMODE(generated.stat().st_mode) == 0o600
    client = InProcessCoreClient(first, dev_token("city-13101"))
    symbols = client.person_symbols(personas[0].resident_code, ["portal"])
    first.close()
    second = SymbolCore.from_environment(dev=True)  # same key and tokens next start
    again = InProcessCoreClient(second, dev_token("city-13101"))
    assert again.person_symbols(personas[0].resident_code, ["portal"]) == symbols
    second.close()


# ---- over HTTP --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def core_url(core: SymbolCore) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_core_app(core), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "core server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_http_client_matches_in_process_client(
    core: SymbolCore, core_url: str, personas: list[Persona]
) -> None:
    taro = personas[0]
    local = InProcessCoreClient(core, TOKENS[TERMINAL_AGENCY])
    with CoreClient(core_url, TOKENS[TERMINAL_AGENCY], agency=TERMINAL_AGENCY) as remote:
        over_http = remote.person_symbols(taro.resident_code, ["portal"])
        assert over_http == local.person_symbols(taro.resident_code, ["portal"])
        with pytest.raises(CoreClientError) as unknown:
            remote.person_symbols(taro.resident_code, ["police"])
        assert unknown.value.core_code == "UNKNOWN_AGENCY" and unknown.value.code == "CORE_ERROR"
        with pytest.raises(CoreClientError) as forbidden:
            remote.person_symbols(taro.resident_code, ["tax"])
        assert forbidden.value.core_code == "FORBIDDEN"
        with pytest.raises(CoreClientError) as bad_code:
            remote.person_symbols("123", [])
        assert bad_code.value.code == "INVALID_RESIDENT_CODE"
        with pytest.raises(CoreClientError) as check_digit:
            remote.person_symbols(taro.resident_code[:10] + "9", [])
        assert check_digit.value.code == "RESIDENT_CODE_CHECK_DIGIT"
        with pytest.raises(CoreClientError) as nobody:
            remote.person_symbols("1000000009" + "0", [])  # valid check digit, not registered
        assert nobody.value.code == "UNKNOWN_RESIDENT"
        facts = {
            "name": taro.name,
            "birth_date": taro.birth_date.strftime("%Y%m%d"),
            "sex": taro.sex,
            "address": taro.address,
            "my_number": None,
        }
        assert remote.match_identity(facts, resident_code=taro.resident_code) == (
            local.match_identity(facts, resident_code=taro.resident_code)
        )
    with (
        CoreClient(core_url, TOKENS["portal"], agency="portal") as portal,
        pytest.raises(CoreClientError) as not_a_municipality,
    ):
        portal.person_symbols(taro.resident_code, [])
    assert not_a_municipality.value.core_code == "FORBIDDEN"
    with (
        CoreClient(core_url, "wrong-token", agency=TERMINAL_AGENCY) as stranger,
        pytest.raises(CoreClientError) as refused,
    ):
        stranger.person_symbols(taro.resident_code, [])
    assert refused.value.core_code == "UNAUTHENTICATED" and refused.value.code == "CORE_ERROR"


def test_http_responses_never_carry_the_resident_code(
    core_url: str, personas: list[Persona]
) -> None:
    taro = personas[0]
    headers = {"Authorization": f"Bearer {TOKENS[TERMINAL_AGENCY]}"}
    ok = httpx.post(
        f"{core_url}/v1/persons/symbols",
        headers=headers,
        json={"resident_code": taro.resident_code, "agencies": ["portal"]},
    )
    assert ok.status_code == 200 and taro.resident_code not in ok.text
    invalid = httpx.post(
        f"{core_url}/v1/persons/symbols",
        headers=headers,
        json={"resident_code": taro.resident_code, "agencies": "portal"},
    )
    assert invalid.status_code == 422 and taro.resident_code not in invalid.text
    assert invalid.json()["error"]["code"] == "INVALID_REQUEST"
    anonymous = httpx.post(
        f"{core_url}/v1/relay", json={"symbol": "X" * 32, "to_agency": "portal", "request": {}}
    )
    assert anonymous.status_code == 401
    gone = httpx.post(
        f"{core_url}/v1/translate",
        headers=headers,
        json={"from_agency": "tax", "symbol": "X" * 32, "to_agency": "portal"},
    )
    assert gone.status_code == 404  # the old translation route no longer exists


def test_core_down_or_silent_is_core_unavailable() -> None:
    with (
        CoreClient(f"http://127.0.0.1:{_free_port()}", "t", agency="x") as client,
        pytest.raises(CoreUnavailable),
    ):
        client.person_symbols("10000000014", [])
    # Listening but never answering: the client gives up at its timeout.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with (
            CoreClient(url, "t", agency="x", timeout=0.5) as client,
            pytest.raises(CoreUnavailable) as timed_out,
        ):
            client.person_symbols("10000000014", [])
    assert timed_out.value.code == "CORE_UNAVAILABLE"


@pytest.mark.slow
def test_cli_core_serve(
    tmp_path: Path, personas: list[Persona], monkeypatch: pytest.MonkeyPatch
) -> None:
    mynaterm = str(Path(sys.executable).with_name("mynaterm"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYNATERM_CORE_")}
    env["MYNATERM_HOME"] = str(tmp_path)
    no_key = subprocess.run(
        [mynaterm, "core", "serve", "--port", str(port), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert no_key.returncode == exit_code("CORE_CONFIG")
    assert json.loads(no_key.stdout)["error"]["code"] == "CORE_CONFIG"
    proc = subprocess.Popen(
        [mynaterm, "core", "serve", "--dev", "--port", str(port), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "core serve did not come up"
            time.sleep(0.1)
        monkeypatch.setenv("MYNATERM_HOME", str(tmp_path))
        token = dev_token("city-13101")  # written by the server's dev mode
        with CoreClient(f"http://127.0.0.1:{port}", token, agency="city-13101") as client:
            symbols = client.person_symbols(personas[0].resident_code, ["portal"])
        assert set(symbols) == {"city-13101", "portal"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def _serve(app: Any) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_relay_over_http_end_to_end(personas: list[Persona]) -> None:
    """The portal asks the tax agency, over the core's HTTP API, about a person it knows
    by its own symbol; the core reaches the tax office over HTTP (its relay_url) with
    the tax symbol; the answer comes back to the portal, no symbol in it."""
    from fastapi import FastAPI

    from simulators.core.config import Agency, CoreConfig, token_sha256

    received: list[dict[str, Any]] = []
    office = FastAPI()

    @office.post("/relay")
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        received.append(body)
        return {"filed": True, "year": body["request"].get("year")}

    with _serve(office) as office_url:
        config = CoreConfig(
            b"\x09" * 32,
            (
                Agency("portal", "portal"),
                Agency(TERMINAL_AGENCY, "city", resident_lookup=True),
                Agency("tax", "tax", relay_url=f"{office_url}/relay"),
            ),
            {token_sha256(TOKENS[a]): a for a in ("portal", TERMINAL_AGENCY, "tax")},
        )
        core = SymbolCore(config)
        taro = personas[0]
        symbols = core.person_symbols(taro.resident_code, ["portal"], caller=TERMINAL_AGENCY)
        with (
            _serve(create_core_app(core)) as url,
            CoreClient(url, TOKENS["portal"], agency="portal") as portal,
        ):
            answer_ = portal.relay(symbols["portal"], "tax", {"year": 2025})
            assert answer_ == {"filed": True, "year": 2025}
            with pytest.raises(CoreClientError) as refused:  # pension takes no requests
                portal.relay(symbols["portal"], "pension", {})
            assert refused.value.core_code in ("UNKNOWN_AGENCY", "RELAY_REFUSED")
        tax_symbol = core._deriver.agency_symbol(
            core._deriver.linkage_symbol(taro.resident_code), "tax"
        )
        assert received == [{"symbol": tax_symbol, "request": {"year": 2025}}]
        core.close()
