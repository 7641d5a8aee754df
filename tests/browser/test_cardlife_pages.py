"""The counter's three card-life screens in Chromium against software cards: PIN
setting on a new card, PIN reset of a locked PIN, renewal on the same card."""

from __future__ import annotations

import httpx
import pytest

from jpki.constants import KeyKind, PinKind
from simulators.card import SoftwareCard
from simulators.card.software_card import HOLDER_PINS
from simulators.personas import Persona, get_persona
from terminal.service.context import ServiceContext
from tests.browser.conftest import screenshots
from tests.browser.test_pages import sign_in
from tests.service.conftest import PASSWORDS
from tests.simulators.software_card_apdu import SELECT_JPKI, select_ef, sw, verify

pytestmark = pytest.mark.browser

HANAKO = get_persona("sato-hanako")
YAMADA = get_persona("yamada-taro")


def issue_over_http(base: str, reader: str, persona: Persona, auth: str, sign: str) -> None:
    with httpx.Client(base_url=base, headers={"Origin": base}, timeout=30) as http:
        token = http.post(
            "/api/session", json={"username": "clerk1", "password": PASSWORDS["clerk1"]}
        ).json()["token"]
        response = http.post(
            "/api/issuance",
            json={
                "reader_id": reader,
                "resident_code": persona.resident_code,
                "auth_pin": auth,
                "sign_pin": sign,
                "face_to_face_confirmed": True,
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text


def open_tab(page, live_server: str, tab: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/counter")
    sign_in(page, "clerk1")
    page.wait_for_selector("#desk:not([hidden])")
    page.wait_for_selector("input[name=reader]")
    page.click(f"[data-tab={tab}]")
    page.wait_for_selector(f"#tab-{tab}:not([hidden])")


def test_pin_setting_screen(page, live_server: str, wired: ServiceContext, test_pki) -> None:  # type: ignore[no-untyped-def]
    card = SoftwareCard.create(HANAKO, test_pki, unset_pins=True)
    wired.readers.insert_software_card("0", card, label="new card")
    open_tab(page, live_server, "pins")
    form = "#pins-form"
    page.fill(f"{form} input[name=resident_code]", HANAKO.resident_code)
    for name, first, again in (
        ("auth_pin", "5151", "5152"),
        ("sign_pin", "newpin51", "newpin51"),
        ("cardinfo_pin", "5151", "5151"),
    ):
        page.fill(f"{form} input[name={name}]", first)
        page.fill(f"{form} input[name={name}_again]", again)
    page.check(f"{form} input[name=face_to_face]")
    page.click(f"{form} button[type=submit]")
    page.wait_for_function("document.querySelector('#error').textContent.length > 0")
    assert not card.pin_is_set(PinKind.AUTH)  # the mismatch never left the page
    page.fill(f"{form} input[name=auth_pin_again]", "5151")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#done", timeout=30000)
    assert "auth, sign, cardinfo" in page.inner_text("#outcome")
    assert page.input_value(f"{form} input[name=auth_pin]") == ""
    screenshots(page, "counter-pins-done")
    assert all(card.pin_is_set(kind) for kind in HOLDER_PINS)
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(PinKind.SIGN.file)) == 0x9000
    assert sw(card, verify("NEWPIN51")) == 0x9000  # upper-cased, as clients do


def test_pin_reset_screen(page, live_server: str, wired: ServiceContext, insert_card) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    issue_over_http(live_server, "0", YAMADA, YAMADA.pins.auth, YAMADA.pins.sign)
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(PinKind.AUTH.file)) == 0x9000
    for _ in range(3):
        sw(card, verify("0000"))
    assert card.pin_remaining(PinKind.AUTH) == 0
    open_tab(page, live_server, "pin-reset")
    form = "#pin-reset-form"
    page.fill(f"{form} input[name=resident_code]", YAMADA.resident_code)
    page.select_option(f"{form} select[name=kind]", "auth")
    page.fill(f"{form} input[name=new_pin]", "8080")
    page.fill(f"{form} input[name=new_pin_again]", "8080")
    page.click(f"{form} button[type=submit]")  # face-to-face not confirmed yet
    page.wait_for_function("document.querySelector('#error').textContent.length > 0")
    assert card.pin_remaining(PinKind.AUTH) == 0
    page.fill(f"{form} input[name=new_pin]", "8080")
    page.fill(f"{form} input[name=new_pin_again]", "8080")
    page.check(f"{form} input[name=face_to_face]")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#done", timeout=30000)
    screenshots(page, "counter-pin-reset-done")
    assert card.pin_remaining(PinKind.AUTH) == 3
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(PinKind.AUTH.file)) == 0x9000
    assert sw(card, verify("8080")) == 0x9000


def test_renewal_on_the_same_card_screen(
    page, live_server: str, wired: ServiceContext, test_pki
) -> None:  # type: ignore[no-untyped-def]
    card = SoftwareCard.create(HANAKO, test_pki)  # its own card: the renewal revokes
    wired.readers.insert_software_card("1", card, label="hanako")
    issue_over_http(live_server, "1", HANAKO, HANAKO.pins.auth, HANAKO.pins.sign)
    old_auth, old_key = card.auth_certificate, card.public_key(KeyKind.AUTH).public_numbers()
    open_tab(page, live_server, "renew-card")
    page.check("input[name=reader][value='1']")
    form = "#renew-card-form"
    page.fill(f"{form} input[name=resident_code]", HANAKO.resident_code)
    page.uncheck(f"{form} input[name=sign]")
    page.check(f"{form} input[name=face_to_face]")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#done", timeout=60000)
    outcome = page.inner_text("#outcome")
    screenshots(page, "counter-renew-on-card-done")
    assert card.auth_certificate != old_auth
    assert card.public_key(KeyKind.AUTH).public_numbers() != old_key
    from cryptography import x509

    new_serial = str(x509.load_der_x509_certificate(card.auth_certificate).serial_number)
    assert new_serial in outcome
