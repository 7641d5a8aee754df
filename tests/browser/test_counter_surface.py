"""The counter's card-face check in Chromium: a clerk reads the card face with 照合番号B
and the face photo is shown (the browser decoded the service's PNG) with the signature
verdict, in both languages."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from jpki.constants import PinKind
from terminal.service.context import ServiceContext
from tests.browser.conftest import screenshots
from tests.browser.kiosk_helpers import YAMADA, sign_in

pytestmark = pytest.mark.browser


def test_counter_shows_the_card_face_photo(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    page.add_init_script("localStorage.setItem('mynaterm.lang', 'ja')")
    page.goto(f"{live_server}/counter")
    sign_in(page, "clerk1")
    page.wait_for_selector("#card-summary table")
    page.select_option("#surface-form select[name=credential]", "B")
    page.fill("#surface-form input[name=code]", YAMADA.code_b)
    page.click("#surface-form button[type=submit]")
    page.wait_for_selector("#surface-face:not([hidden])", timeout=30000)
    expect(page.locator("#surface-face")).to_have_attribute("data-signature", "valid")
    page.wait_for_function("document.querySelector('#surface-photo').complete")
    assert page.evaluate("document.querySelector('#surface-photo').naturalWidth") > 100
    assert page.evaluate("document.querySelector('#surface-name').naturalWidth") > 0
    assert page.input_value("#surface-form input[name=code]") == ""  # not kept
    assert YAMADA.code_b not in page.content()
    expect(page.locator("#surface-facts")).to_contain_text("署名を確認しました")
    expect(page.locator("#surface-facts")).to_contain_text("1985年4月12日")
    screenshots(page, "counter-surface-photo")  # the verdict re-renders in English too
    assert card.pin_remaining(PinKind.SURFACE_CODE_B) == 10


def test_counter_surface_wrong_code_shows_tries_left(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    page.add_init_script("localStorage.setItem('mynaterm.lang', 'ja')")
    page.goto(f"{live_server}/counter")
    sign_in(page, "clerk1")
    page.wait_for_selector("#card-summary table")
    page.fill("#surface-form input[name=code]", YAMADA.code_b[:-4] + "0000")
    page.click("#surface-form button[type=submit]")
    expect(page.locator("#surface-error")).not_to_be_empty(timeout=30000)
    assert page.locator("#surface-face").is_hidden()
    assert card.pin_remaining(PinKind.SURFACE_CODE_B) == 9
