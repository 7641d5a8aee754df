"""The counter and kiosk pages in Chromium against software cards."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from jpki.constants import PinKind
from simulators.personas import get_persona
from terminal.service.context import ServiceContext
from tests.browser.conftest import screenshot, screenshots
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
                "face_to_face_confirmed": True,
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text


def confirm_identity(page) -> None:  # type: ignore[no-untyped-def]
    """The identity check is on screen and matches: tick 本人確認 and link."""
    page.wait_for_selector("#identity-check:not([hidden])", timeout=30000)
    assert page.is_disabled("#identity-link")  # not before the clerk confirms
    page.check("#face-to-face")
    page.click("#identity-link")


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
    confirm_identity(page)
    page.wait_for_selector("#done", timeout=30000)
    outcome = page.inner_text("#outcome")
    assert YAMADA.my_number.masked in outcome and YAMADA.my_number.reveal() not in outcome
    assert page.input_value(f"{form} input[name=auth_pin]") == ""  # PINs cleared
    screenshot(page, "counter-issuance-done")
    assert card.pin_remaining(PinKind.AUTH) == 3


def test_counter_shows_the_holder_and_refuses_a_mismatching_card(
    page, live_server: str, wired: ServiceContext, insert_card
) -> None:  # type: ignore[no-untyped-def]
    """Sato Hanako's card with Yamada Taro's resident code: the panel shows the name and
    birth date the card states and the register's "does not match"; the link cannot be
    made, not even by forcing the button, and nothing is linked."""
    from cryptography import x509

    hanako = get_persona("sato-hanako")
    card = insert_card("0", hanako.id)
    page.goto(f"{live_server}/counter")
    sign_in(page, "clerk1")
    page.wait_for_selector("#card-summary table")
    form = "#issuance-form"
    page.fill(f"{form} input[name=resident_code]", YAMADA.resident_code)
    page.fill(f"{form} input[name=auth_pin]", hanako.pins.auth)
    page.fill(f"{form} input[name=sign_pin]", hanako.pins.sign)
    page.fill(f"{form} input[name=cardinfo_pin]", hanako.pins.cardinfo)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#identity-check:not([hidden])", timeout=30000)
    holder = page.inner_text("#identity-holder")
    assert hanako.name in holder and hanako.birth_date.isoformat() in holder
    assert hanako.address not in page.inner_text("#identity-check")  # name and birth only
    assert hanako.my_number.reveal() not in page.content()
    verdict = page.inner_text("#identity-verdict")
    assert verdict.count("不一致") >= 4  # name, birth date, address, My Number
    expect(page.locator("#identity-result")).to_have_class("identity-result error")
    screenshots(page, "counter-identity-mismatch")
    page.check("#face-to-face")
    assert page.is_disabled("#identity-link")  # a mismatching card cannot be linked
    # Even a forced click (the button enabled by hand) is refused by the service.
    page.eval_on_selector("#identity-link", "b => { b.disabled = false; }")
    page.click("#identity-link")
    expect(page.locator("#error")).to_contain_text("住民記録と一致しません", timeout=30000)
    auth_serial = x509.load_der_x509_certificate(card.auth_certificate).serial_number
    from terminal.linkage.errors import UnknownSerial

    with pytest.raises(UnknownSerial):
        wired.registry.certificate(auth_serial)  # type: ignore[union-attr]
    results = [e.result for e in wired.audit.list(limit=100)]  # type: ignore[union-attr]
    assert "refused:IDENTITY_MISMATCH" in results


def test_counter_renewal_checks_the_new_card_first(
    page, live_server: str, wired: ServiceContext, insert_card, test_pki
) -> None:  # type: ignore[no-untyped-def]
    """Renewal: another person's new card is shown as not matching and cannot be
    chained; the holder's own new card matches, and renews after 本人確認."""
    from cryptography import x509

    from simulators.card import SoftwareCard

    old_card = insert_card("0")
    issue_over_http(live_server, "0")
    old_serial = str(x509.load_der_x509_certificate(old_card.auth_certificate).serial_number)
    hanako = get_persona("sato-hanako")
    insert_card("1", hanako.id)
    page.goto(f"{live_server}/counter")
    sign_in(page, "clerk1")
    page.wait_for_selector("#desk:not([hidden])")
    page.click("#reader-1")
    page.click("[data-tab=renewal]")
    form = "#renewal-form"
    page.fill(f"{form} input[name=old_auth_serial]", old_serial)
    page.fill(f"{form} input[name=auth_pin]", hanako.pins.auth)
    page.fill(f"{form} input[name=sign_pin]", hanako.pins.sign)
    page.click(f"{form} button[type=submit]")
    panel = "#renewal-identity-check"
    page.wait_for_selector(f"{panel}:not([hidden])", timeout=30000)
    assert hanako.name in page.inner_text("#renewal-identity-holder")
    expect(page.locator("#renewal-identity-result")).to_have_class("identity-result error")
    page.check("#renewal-face-to-face")
    assert page.is_disabled("#renewal-identity-link")
    # The holder's own new card.
    wired.readers.insert_software_card("1", SoftwareCard.create(YAMADA, test_pki))
    page.fill(f"{form} input[name=auth_pin]", YAMADA.pins.auth)
    page.fill(f"{form} input[name=sign_pin]", YAMADA.pins.sign)
    page.click(f"{form} button[type=submit]")
    expect(page.locator("#renewal-identity-result")).to_have_class(
        "identity-result ok", timeout=30000
    )
    page.check("#renewal-face-to-face")
    page.click("#renewal-identity-link")
    page.wait_for_selector("#done", timeout=30000)
    assert old_serial in page.inner_text("#outcome")  # "replaces auth <old serial>"


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
    confirm_identity(page)
    page.wait_for_selector("#done", timeout=30000)
    rows = page.locator("#outcome tr")
    values = {
        rows.nth(i).locator("th").inner_text(): rows.nth(i).locator("td").inner_text()
        for i in range(rows.count())
    }
    person_id = values["person"]
    auth_serial = values["auth Serial number"]

    page.click("[data-tab=person]")
    # The counter finds the person by resident code (through the core), not by a bare ID.
    page.select_option("#person-form select[name=by]", "resident_code")
    page.fill("#person-form input[name=value]", YAMADA.resident_code)
    page.click("#person-form button[type=submit]")
    expect(page.locator("#person")).to_contain_text(person_id, timeout=30000)
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
