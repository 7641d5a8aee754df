"""The counter and kiosk pages in Chromium against software cards."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from jpki.constants import PinKind
from simulators.personas import get_persona
from terminal.service.context import ServiceContext
from tests.browser.conftest import screenshot
from tests.service.conftest import PASSWORDS

pytestmark = pytest.mark.browser

YAMADA = get_persona("yamada-taro")


def sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#signin-form input[name=username]", username)
    page.fill("#signin-form input[name=password]", PASSWORDS[username])
    page.click("#signin-form button[type=submit]")


def issue_over_http(base: str, reader: str) -> None:
    with httpx.Client(base_url=base, headers={"Origin": base}, timeout=30) as http:
        token = http.post(
            "/api/session", json={"username": "clerk1", "password": PASSWORDS["clerk1"]}
        ).json()["token"]
        response = http.post(
            "/api/issuance",
            json={
                "reader_id": reader,
                "resident_code": YAMADA.resident_code,
                "auth_pin": YAMADA.pins.auth,
                "sign_pin": YAMADA.pins.sign,
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text


def test_counter_issuance(page, live_server: str, wired: ServiceContext, insert_card) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    page.goto(f"{live_server}/counter")
    sign_in(page, "clerk1")
    page.wait_for_selector("#desk:not([hidden])")
    page.wait_for_selector("#card-summary table")  # the card was read (no PIN)
    assert "JPKIAPICCTOKEN2" in page.inner_text("#card-summary")
    form = "#issuance-form"
    page.fill(f"{form} input[name=resident_code]", YAMADA.resident_code)
    page.fill(f"{form} input[name=auth_pin]", YAMADA.pins.auth)
    page.fill(f"{form} input[name=sign_pin]", YAMADA.pins.sign)
    page.fill(f"{form} input[name=cardinfo_pin]", YAMADA.pins.cardinfo)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#done", timeout=30000)
    outcome = page.inner_text("#outcome")
    assert YAMADA.my_number.masked in outcome and YAMADA.my_number.reveal() not in outcome
    assert page.input_value(f"{form} input[name=auth_pin]") == ""  # PINs cleared
    screenshot(page, "counter-issuance-done")
    assert card.pin_remaining(PinKind.AUTH) == 3


def test_counter_person_reveal_and_revocation(
    page, live_server: str, wired: ServiceContext, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    page.goto(f"{live_server}/counter")
    page.click("#lang")  # English
    sign_in(page, "officer1")
    page.wait_for_selector("#card-summary table")
    form = "#issuance-form"
    page.fill(f"{form} input[name=resident_code]", YAMADA.resident_code)
    page.fill(f"{form} input[name=auth_pin]", YAMADA.pins.auth)
    page.fill(f"{form} input[name=sign_pin]", YAMADA.pins.sign)
    page.fill(f"{form} input[name=cardinfo_pin]", YAMADA.pins.cardinfo)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#done", timeout=30000)
    rows = page.locator("#outcome tr")
    values = {
        rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").inner_text()
        for i in range(rows.count())
    }
    person_id = values["person"]
    auth_serial = values["auth Serial number"]

    page.click("[data-tab=person]")
    page.fill("#person-form input[name=person_id]", person_id)
    page.click("#person-form button[type=submit]")
    page.wait_for_selector("#reveal-form:not([hidden])")
    assert YAMADA.my_number.reveal() not in page.inner_text("#person")
    page.fill("#reveal-form input[name=cardinfo_pin]", YAMADA.pins.cardinfo)
    page.click("#reveal-form button[type=submit]")
    expect(page.locator("#person")).to_contain_text(YAMADA.my_number.reveal(), timeout=30000)
    screenshot(page, "counter-officer-reveal")
    views = [e for e in wired.audit.list(limit=1000) if e.operation == "mynumber.view"]  # type: ignore[union-attr]
    assert len(views) == 1 and views[0].operator_id == "officer1"

    page.click("[data-tab=revocation]")
    page.fill("#revocation-form input[name=serial]", auth_serial)
    page.select_option("#revocation-form select[name=reason]", "loss")
    page.click("#revocation-form button[type=submit]")
    expect(page.locator("#outcome")).to_contain_text(auth_serial, timeout=30000)
    page.wait_for_selector("#done")
    screenshot(page, "counter-revocation-done")
    view = wired.registry.person(person_id)  # type: ignore[union-attr]
    assert {c.status for c in view.certificates} == {"revoked"}
