"""`mynaterm demo` as a subprocess: it starts, answers /health, and a resident logs in
over HTTP with a card the demo linked; then it stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from simulators.personas import load_personas

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_announcement(process: subprocess.Popen[str], deadline: float) -> dict:  # type: ignore[type-arg]
    assert process.stdout is not None
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.rstrip() == "}":
            return json.loads("".join(lines))  # type: ignore[no-any-return]
    raise AssertionError(f"no announcement from the demo: {''.join(lines)!r}")


def test_demo_serves_health_and_a_login(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MYNATERM_HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    mynaterm = Path(sys.executable).with_name("mynaterm")
    process = subprocess.Popen(
        [str(mynaterm), "demo", "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        info = read_announcement(process, time.monotonic() + 120)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30, headers={"Origin": base}) as http:
            for _ in range(100):  # up to 20 s, whether refused or not ready yet
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            assert http.get("/health").json()["status"] == "ok"
            kiosk = next(o for o in info["operators"] if o["role"] == "kiosk")
            signed_in = http.post(
                "/api/session", json={"username": kiosk["username"], "password": kiosk["password"]}
            )
            assert signed_in.status_code == 200
            # The README's table of cards in readers is what the demo does.
            from tests.terminal.test_readme_tour import readme_cards

            assert [
                (int(card["reader"]), card["persona"], card["linked"]) for card in info["cards"]
            ] == [(index, persona, linked) for index, persona, _, linked in readme_cards()]
            reader = info["linked_readers"][0]
            persona = load_personas()[int(reader)]  # the demo puts persona i in reader i
            response = http.post(f"/api/readers/{reader}/login", json={"pin": persona.pins.auth})
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
    # Stopped by itself on SIGINT (uvicorn re-raises the signal after shutting down).
    assert process.returncode in (0, 130, -signal.SIGINT), stderr[-2000:]
    assert "Application shutdown complete" in stderr
    assert "Traceback" not in stderr
    for persona in load_personas():
        assert persona.pins.sign not in stderr  # distinctive enough to search for
