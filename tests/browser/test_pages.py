"""The counter page in Chromium against software cards: issuance, which-PIN messages,
serials picked from the record, revocation behind a confirmation (and idempotent), the
revealed My Number hiding again, the idle lock, a kiosk account refused, keyboard-only
tabs. Screenshots of each state in both languages go to test-artifacts/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from jpki.constants import PinKind
from terminal.service.context import ServiceContext
from tests.browser.conftest import screenshots
from tests.browser.kiosk_helpers import YAMADA, issue_over_http, sign_in

pytestmark = pytest.mark.browser


def open_counter(page, base: str, who: str = "clerk1", query: str = "") -> None:  # type: ignore[no-untyped-def]
    page.add_init_script("localStorage.setItem('mynaterm.lang', 'ja')")
    page.goto(f"{base}/counter{query}")
    expect(page.locator("body")).to_have_attribute("data-state", "signin")
    sign_in(page, who)
    expect(page.locator("body")).to_have_attribute("data-state", "desk")


def fill_issuance(page, **pins: str) -> None:  # type: ignore[no-untyped-def]
    form = "#issuance-form"
    page.fill(f"{form} input[name=resident_code]", YAMADA.resident_code)
    page.fill(f"{form} input[name=auth_pin]", pins.get("auth", YAMADA.pins.auth))
    page.fill(f"{form} input[name=sign_pin]", pins.get("sign", YAMADA.pins.sign))
    page.fill(f"{form} input[name=cardinfo_pin]", pins.get("cardinfo", YAMADA.pins.cardinfo))
    page.click(f"{form} button[type=submit]")


def confirm_identity(page, prefix: str = "") -> None:  # type: ignore[no-untyped-def]
    """The identity check is on screen and matches: tick 本人確認 and link (issue 10)."""
    page.wait_for_selector(f"#{prefix}identity-check:not([hidden])", timeout=30000)
    expect(page.locator(f"#{prefix}identity-result")).to_have_class("identity-result ok")
    assert page.is_disabled(f"#{prefix}identity-link")  # not before the clerk confirms
    page.check(f"#{prefix}face-to-face")
    page.click(f"#{prefix}identity-link")


def japanese_date(day: Any) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def look_up(page, by: str, value: str) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#person-form select[name=by]", by)
    page.fill("#person-form input[name=value]", value)
    page.click("#person-form button[type=submit]")


def test_counter_issuance_and_which_pin(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    from terminal.dev.wing import DevWing

    card = insert_card("0")
    DevWing.of(wired).card_library["yamada-taro"] = card  # the simulator panel lists it
    page.add_init_script("localStorage.setItem('mynaterm.lang', 'ja')")
    page.goto(f"{live_server}/counter")
    expect(page.locator("#signin")).to_be_visible()
    screenshots(page, "counter-01-signin")
    sign_in(page, "clerk1")
    page.wait_for_selector("#card-summary table")  # the card was read (no PIN)
    summary = page.inner_text("#card-summary")
    assert "マイナンバーカード" in summary and "JPKI" not in summary
    assert "年" in summary and "月" in summary and "Z" not in summary  # a date as people read it
    assert "カードあり" in page.inner_text("#readers")  # presence in words
    reader_name = wired.readers.get("0").name
    expect(page.locator("[data-sim=where]")).to_contain_text(f"{reader_name}：yamada-taro のカード")
    screenshots(page, "counter-02-desk")
    # A wrong sign PIN: the message names it (four PINs on one form).
    fill_issuance(page, sign="WRONGPIN1")
    expect(page.locator("#error")).to_have_text("署名用パスワードが違います。残り4回です")
    assert card.pin_remaining(PinKind.SIGN) == 4
    screenshots(page, "counter-03-which-pin")
    page.evaluate("MT.toggleLang()")  # the message on screen switches language
    expect(page.locator("#error")).to_have_text("Wrong signature PIN. 4 tries left")
    page.evaluate("MT.toggleLang()")
    fill_issuance(page, cardinfo="9999" if YAMADA.pins.cardinfo != "9999" else "8888")
    expect(page.locator("#error")).to_have_text(
        "券面事項入力補助用パスワードが違います。残り2回です"
    )
    # Keyboard only: fields in order, Enter submits.
    page.fill("#issuance-form input[name=resident_code]", "")
    page.focus("#issuance-form input[name=resident_code]")
    for value in (YAMADA.resident_code, YAMADA.pins.auth, YAMADA.pins.sign):
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    page.keyboard.type(YAMADA.pins.cardinfo)
    page.keyboard.press("Enter")
    page.wait_for_selector("#identity-check:not([hidden])", timeout=30000)
    holder = page.inner_text("#identity-holder")
    assert YAMADA.name in holder and japanese_date(YAMADA.birth_date) in holder
    screenshots(page, "counter-04-identity-check")
    confirm_identity(page)
    page.wait_for_selector("#done", timeout=30000)
    outcome = page.inner_text("#outcome")
    assert YAMADA.my_number.masked in outcome and YAMADA.my_number.reveal() not in outcome
    assert "利用者証明用電子証明書" in outcome and "replaces" not in outcome
    assert page.input_value("#issuance-form input[name=auth_pin]") == ""  # PINs cleared
    screenshots(page, "counter-04-issuance-done")
    assert card.pin_remaining(PinKind.AUTH) == 3


def test_counter_renewal_picks_the_old_serial(
    page, live_server: str, wired: ServiceContext, insert_card: Any, test_pki: Any
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    issued = issue_over_http(live_server, "0")
    old_auth = next(c["serial"] for c in issued["certificates"] if c["kind"] == "auth")
    open_counter(page, live_server)
    page.keyboard.press("Tab")
    page.click("#tab-btn-issuance")
    page.keyboard.press("ArrowRight")  # keyboard: arrows move between tabs
    expect(page.locator("#tab-btn-renewal")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#tab-renewal")).to_be_visible()
    page.fill("#renewal-find input[name=person_id]", issued["person_id"])
    page.click("#renewal-find button[type=submit]")
    choice = page.locator("#renewal-form input[name=serial]")
    expect(choice).to_have_count(1)
    assert choice.get_attribute("value") == old_auth and choice.is_checked()
    assert page.locator("#renewal-form input[name=old_auth_serial]").count() == 0  # not typed
    screenshots(page, "counter-05-renewal-pick")
    # The renewed card (a new card of the same person, new keys) is in the reader.
    from simulators.card import SoftwareCard

    wired.readers.insert_software_card("0", SoftwareCard.create(YAMADA, test_pki))
    page.fill("#renewal-form input[name=auth_pin]", YAMADA.pins.auth)
    page.fill("#renewal-form input[name=sign_pin]", YAMADA.pins.sign)
    page.click("#renewal-form button[type=submit]")
    confirm_identity(page, "renewal-")
    page.wait_for_selector("#done", timeout=30000)
    outcome = page.inner_text("#outcome")
    assert "旧利用者証明用電子証明書" in outcome and old_auth in outcome
    screenshots(page, "counter-06-renewal-done")


def test_counter_revocation_confirmed_and_idempotent(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    issued = issue_over_http(live_server, "0")
    serials = {c["kind"]: c["serial"] for c in issued["certificates"]}
    open_counter(page, live_server)
    page.click("#tab-btn-revocation")
    page.fill("#revocation-find input[name=person_id]", issued["person_id"])
    page.click("#revocation-find button[type=submit]")
    expect(page.locator("#revocation-form input[name=serial]")).to_have_count(2)
    page.check(f"#revocation-form input[value='{serials['auth']}']")
    page.select_option("#revocation-form select[name=reason]", "loss")
    assert page.inner_text("#revocation-form select[name=reason]").count("loss") == 0
    page.click("#revocation-form button[type=submit]")
    dialog = page.locator("#revoke-dialog")
    expect(dialog).to_be_visible()
    # Loss ends the whole card: both certificates are listed before anything happens.
    listed = page.inner_text("#revoke-list")
    assert serials["auth"] in listed and serials["sign"] in listed
    assert "紛失" in page.inner_text("#revoke-reason")
    screenshots(page, "counter-07-revocation-confirm")
    page.click("#revoke-dialog [data-answer=no]")  # cancel: nothing is revoked
    expect(dialog).to_be_hidden()
    view = wired.registry.person(issued["person_id"])  # type: ignore[union-attr]
    assert {c.status for c in view.certificates} == {"active"}

    page.click("#revocation-form button[type=submit]")
    page.click("#revoke-dialog [data-answer=yes]")
    expect(page.locator("#done")).to_have_text("失効させました")
    assert serials["auth"] in page.inner_text("#outcome")
    screenshots(page, "counter-08-revocation-done")
    view = wired.registry.person(issued["person_id"])  # type: ignore[union-attr]
    assert {c.status for c in view.certificates} == {"revoked"}
    # Nothing active is left to pick; revoking again through the API is idempotent and
    # the page says "already revoked", not "done" with an empty list.
    expect(page.locator("[data-choices=revocation]")).to_have_text(
        "失効させられる有効な電子証明書はありません"
    )
    page.evaluate(
        """([serial]) => {
             const box = document.querySelector('[data-choices=revocation]');
             box.innerHTML = '<input type=radio name=serial checked value="' + serial + '">';
           }""",
        [serials["auth"]],
    )
    page.click("#revocation-form button[type=submit]")
    page.click("#revoke-dialog [data-answer=yes]")
    expect(page.locator("#done")).to_have_text("すでに失効済みでした。変更はありません")
    screenshots(page, "counter-09-revocation-already")


def test_counter_reveal_hides_again(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    open_counter(page, live_server, "officer1", query="?reveal=2")
    fill_issuance(page)
    confirm_identity(page)
    page.wait_for_selector("#done", timeout=30000)
    person_id = page.locator("#outcome tr").first.locator("td").inner_text()
    page.click("#tab-btn-person")
    look_up(page, "person_id", person_id)
    page.wait_for_selector("#reveal-form:not([hidden])")
    person = page.inner_text("#person")
    assert "有効" in person and "active" not in person and "マイナポータル" in person
    screenshots(page, "counter-10-person")

    def reveal() -> None:
        page.fill("#reveal-form input[name=cardinfo_pin]", YAMADA.pins.cardinfo)
        page.click("#reveal-form button[type=submit]")
        expect(page.locator("#mynumber")).to_have_text(YAMADA.my_number.reveal(), timeout=30000)

    reveal()
    expect(page.locator("#reveal-countdown")).to_contain_text("秒で隠します")
    screenshots(page, "counter-11-revealed")
    expect(page.locator("#reveal-note")).to_have_text("個人番号は再び隠されました", timeout=5000)
    assert YAMADA.my_number.reveal() not in page.content()
    screenshots(page, "counter-12-reveal-hidden")
    views = [e for e in wired.audit.list(limit=1000) if e.operation == "mynumber.view"]  # type: ignore[union-attr]
    assert len(views) == 1 and views[0].operator_id == "officer1"

    # Hidden at once when the card leaves the reader.
    page.goto(f"{live_server}/counter")  # reveal=30 s (the default) this time
    page.click("#tab-btn-person")
    look_up(page, "person_id", person_id)
    page.wait_for_selector("#reveal-form:not([hidden])")
    reveal()
    wired.readers.remove_software_card("0")
    expect(page.locator("#reveal-note")).to_have_text("個人番号は再び隠されました")
    assert YAMADA.my_number.reveal() not in page.content()


def test_counter_idle_lock_and_kiosk_account(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    # A kiosk account does not open the counter.
    page.add_init_script("localStorage.setItem('mynaterm.lang', 'ja')")
    page.goto(f"{live_server}/counter?lock=2")
    sign_in(page, "kiosk1")
    expect(page.locator("#signin-error")).to_contain_text("端末（キオスク）専用")
    assert page.locator("#desk").is_hidden()
    assert page.evaluate("fetch('/api/session').then((r) => r.status)") == 401
    screenshots(page, "counter-13-kiosk-refused")
    # The desk locks when idle; the password unlocks it.
    sign_in(page, "clerk1")
    expect(page.locator("body")).to_have_attribute("data-state", "desk")
    page.fill("#issuance-form input[name=auth_pin]", "1234")
    expect(page.locator("body")).to_have_attribute("data-state", "locked", timeout=6000)
    assert page.locator("#desk").is_hidden()
    assert page.input_value("#issuance-form input[name=auth_pin]") == ""
    # A locked desk holds no live session.
    assert page.evaluate("fetch('/api/session').then((r) => r.status)") == 401
    screenshots(page, "counter-14-locked")
    from tests.service.conftest import PASSWORDS

    page.fill("#lock-form input[name=password]", PASSWORDS["clerk1"])
    page.click("#lock-form button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-state", "desk")
    # The session ends at the service: a staff-facing message, not a password error.
    page.evaluate("fetch('/api/session', {method: 'DELETE'})")
    page.click("#tab-btn-person")
    look_up(page, "person_id", "1" * 15)
    expect(page.locator("body")).to_have_attribute("data-state", "signin")
    expect(page.locator("#signin-note")).to_have_text(
        "サインインの有効期限が切れました。もう一度サインインしてください"
    )
    screenshots(page, "counter-15-session-expired")


def test_counter_shows_the_holder_and_refuses_a_mismatching_card(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    """Sato Hanako's card with Yamada Taro's resident code: the panel shows the name and
    birth date the card states and the register's "does not match"; the link cannot be
    made, not even by forcing the button, and nothing is linked (issue 10)."""
    from cryptography import x509

    from simulators.personas import get_persona
    from terminal.linkage.errors import UnknownSerial

    hanako = get_persona("sato-hanako")
    card = insert_card("0", hanako.id)
    open_counter(page, live_server)
    page.wait_for_selector("#card-summary table")
    form = "#issuance-form"
    page.fill(f"{form} input[name=resident_code]", YAMADA.resident_code)
    page.fill(f"{form} input[name=auth_pin]", hanako.pins.auth)
    page.fill(f"{form} input[name=sign_pin]", hanako.pins.sign)
    page.fill(f"{form} input[name=cardinfo_pin]", hanako.pins.cardinfo)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#identity-check:not([hidden])", timeout=30000)
    holder = page.inner_text("#identity-holder")
    assert hanako.name in holder and japanese_date(hanako.birth_date) in holder
    assert hanako.address not in page.inner_text("#identity-check")  # name and birth only
    assert hanako.my_number.reveal() not in page.content()
    assert page.inner_text("#identity-verdict").count("不一致") >= 4
    expect(page.locator("#identity-result")).to_have_class("identity-result error")
    screenshots(page, "counter-16-identity-mismatch")
    page.check("#face-to-face")
    assert page.is_disabled("#identity-link")  # a mismatching card cannot be linked
    # Even a forced click (the button enabled by hand) is refused by the service.
    page.eval_on_selector("#identity-link", "b => { b.disabled = false; }")
    page.click("#identity-link")
    expect(page.locator("#error")).to_contain_text("住民記録と一致しません", timeout=30000)
    auth_serial = x509.load_der_x509_certificate(card.auth_certificate).serial_number
    with pytest.raises(UnknownSerial):
        wired.registry.certificate(auth_serial)  # type: ignore[union-attr]
    results = [e.result for e in wired.audit.list(limit=100)]  # type: ignore[union-attr]
    assert "refused:IDENTITY_MISMATCH" in results


def test_counter_renewal_checks_the_new_card_first(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    """Renewal: another person's new card is shown as not matching the old card's
    person and cannot be chained (issue 10)."""
    from simulators.personas import get_persona

    insert_card("0")
    issued = issue_over_http(live_server, "0")
    hanako = get_persona("sato-hanako")
    insert_card("0", hanako.id)
    open_counter(page, live_server)
    page.click("#tab-btn-renewal")
    page.fill("#renewal-find input[name=person_id]", issued["person_id"])
    page.click("#renewal-find button[type=submit]")
    expect(page.locator("#renewal-form input[name=serial]")).to_have_count(1)
    page.fill("#renewal-form input[name=auth_pin]", hanako.pins.auth)
    page.fill("#renewal-form input[name=sign_pin]", hanako.pins.sign)
    page.click("#renewal-form button[type=submit]")
    page.wait_for_selector("#renewal-identity-check:not([hidden])", timeout=30000)
    assert hanako.name in page.inner_text("#renewal-identity-holder")
    expect(page.locator("#renewal-identity-result")).to_have_class("identity-result error")
    page.check("#renewal-face-to-face")
    assert page.is_disabled("#renewal-identity-link")


def test_counter_person_lookup_by_resident_code(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    issued = issue_over_http(live_server, "0")
    open_counter(page, live_server)
    page.click("#tab-btn-person")
    look_up(page, "resident_code", YAMADA.resident_code)  # through the core, audited
    expect(page.locator("#person")).to_contain_text(issued["person_id"], timeout=30000)
    look_up(page, "resident_code", YAMADA.resident_code[:10] + "9")
    expect(page.locator("#error")).not_to_be_empty()
