"""Browser tests: a real uvicorn server on a free loopback port, in a thread, with the
service wired to software cards, the test PKI, the registry and the core; Debian's
chromium driven by Playwright. Screenshots go to test-artifacts/."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

# The service fixtures, shared (module attributes are what pytest collects).
from tests.service.conftest import (  # noqa: F401
    app,
    ctx,
    insert_card,
    operator_accounts,
    service_settings,
    wired,
)

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(app, wired) -> Iterator[str]:  # type: ignore[no-untyped-def]  # noqa: F811
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=3,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    require_or_skip(shutil.which(CHROMIUM) is not None, f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    # Depends on the server so that it closes first: its SSE stream ends with it.
    context = browser.new_context(locale="ja-JP", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def screenshots(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page as it is now, in Japanese and in English (name-ja.png, name-en.png);
    the language it was in is restored. Switching re-renders every message on screen,
    so the English shot also shows that nothing stays untranslated."""
    start = page.evaluate("MT.lang")
    for _ in range(2):
        screenshot(page, f"{name}-{page.evaluate('MT.lang')}")
        page.evaluate("MT.toggleLang()")
    assert page.evaluate("MT.lang") == start
