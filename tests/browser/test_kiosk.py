"""The kiosk page as a state machine, in Chromium against software cards: every state
and transition, refusals before the PIN pad, the PIN pad's keyboard rules, the idle
timeout, removal racing the answer, the staff session. Screenshots of every state, in
Japanese and English, go to test-artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from card.errors import InvalidPinError, PinBlockedError
from jpki.constants import PinKind
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCardConnection
from terminal.service.context import ServiceContext
from tests.browser.conftest import screenshots
from tests.browser.kiosk_helpers import (
    YAMADA,
    ForeignCard,
    VerifyCounter,
    call,
    carried_to_kiosk,
    issue_over_http,
    sign_in,
    token,
)

pytestmark = pytest.mark.browser

WRONG = "9999" if YAMADA.pins.auth != "9999" else "8888"

# Every state the page enters, in order (the page itself records nothing for tests).
RECORD_STATES = """
window.__states = [];
document.addEventListener("DOMContentLoaded", () => {
  new MutationObserver(() => {
    const state = document.body.dataset.state;
    if (window.__states[window.__states.length - 1] !== state) window.__states.push(state);
  }).observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
});
"""


def expect_state(page, state: str, timeout: float = 15000) -> None:  # type: ignore[no-untyped-def]
    expect(page.locator("body")).to_have_attribute("data-state", state, timeout=timeout)


def open_kiosk(page, base: str, *, query: str = "", lang: str = "ja") -> None:  # type: ignore[no-untyped-def]
    page.add_init_script(RECORD_STATES)
    page.add_init_script(f"localStorage.setItem('mynaterm.lang', '{lang}')")
    page.goto(f"{base}/kiosk?reader=0{query}")
    expect_state(page, "signin")
    sign_in(page, "kiosk1")


def tap(page, digits: str) -> None:  # type: ignore[no-untyped-def]
    for digit in digits:
        page.click(f"#keys [data-key='{digit}']")


def dots(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.inner_text("#pin-display [aria-hidden]").count("●"))


def pull(base: str, reader: str = "0") -> None:
    """The simulator's card-pull control, as the page's own button uses it."""
    response = call(base, "kiosk1", "POST", f"/api/simulator/readers/{reader}/remove")
    assert response.status_code == 200, response.text


def states(page) -> list[str]:  # type: ignore[no-untyped-def]
    return list(page.evaluate("window.__states"))


def no_resident_left(page, *secrets: str) -> None:  # type: ignore[no-untyped-def]
    """Nothing of the previous resident in the DOM: no symbol, no tries, no message."""
    html = page.content()
    text = page.inner_text("body")
    for secret in secrets:
        assert secret not in html
    assert not page.inner_text("#symbol")
    assert not re.search(r"残り\s*\d|tries left", text)
    assert (
        "ログインしました" not in page.inner_text("main")
        or page.locator("[data-screen=result]").is_hidden()
    )


def test_login_cycle_every_state(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    issue_over_http(live_server, "0")
    carried_to_kiosk(wired, "0")
    verifies = VerifyCounter(wired, "0")
    page.add_init_script(RECORD_STATES)
    page.goto(f"{live_server}/kiosk?reader=0")
    expect_state(page, "signin")
    screenshots(page, "kiosk-01-signin")
    # Hold the card check so that the "checking" screen can be seen.
    held: list[Any] = []
    page.route("**/kiosk-check*", lambda route: held.append(route))
    sign_in(page, "kiosk1")
    expect_state(page, "checking")
    screenshots(page, "kiosk-03-checking")
    held.pop().continue_()
    page.unroute("**/kiosk-check*")
    expect_state(page, "pin")
    expect(page.locator("#pin-remaining")).to_have_text("残り3回")
    assert page.locator("#idle").is_visible()
    screenshots(page, "kiosk-04-pin")

    # Mouse taps, then Enter: the keys never hold focus, so Enter confirms, once.
    tap(page, YAMADA.pins.auth[:3])
    assert dots(page) == 3
    page.keyboard.press("Enter")  # 3 digits: nothing is sent, no digit is added
    assert dots(page) == 3
    assert page.evaluate("document.activeElement === document.body")
    tap(page, YAMADA.pins.auth[3])
    page.route("**/login", lambda route: held.append(route))
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # a second Enter finds no PIN pad
    expect_state(page, "working")
    screenshots(page, "kiosk-05-working")
    held.pop().continue_()
    page.unroute("**/login")
    expect_state(page, "result")
    symbol = page.inner_text("#symbol")
    assert symbol.startswith("********")
    assert verifies.count == 1
    screenshots(page, "kiosk-06-result")
    page.keyboard.press("Tab")  # keyboard only: the finish button is reachable
    focused = page.evaluate("document.activeElement.id")
    while focused != "finish":
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
    page.keyboard.press("Enter")
    expect_state(page, "take-card")
    screenshots(page, "kiosk-07-take-card")
    pull(live_server)
    expect_state(page, "waiting")
    screenshots(page, "kiosk-02-waiting")
    no_resident_left(page, symbol)
    assert states(page) == [
        "signin",
        "waiting",
        "checking",
        "pin",
        "working",
        "result",
        "take-card",
        "waiting",
    ]
    assert card.pin_remaining(PinKind.AUTH) == 3


def test_wrong_pin_spends_one_try_and_keyboard_only(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    issue_over_http(live_server, "0")
    carried_to_kiosk(wired, "0")
    verifies = VerifyCounter(wired, "0")
    open_kiosk(page, live_server)
    expect_state(page, "pin")
    # Keyboard only: digits, Backspace deletes, Enter confirms.
    page.keyboard.type(WRONG[:3] + "7")
    page.keyboard.press("Backspace")
    assert dots(page) == 3
    page.keyboard.type(WRONG[3])
    page.keyboard.press("Enter")
    expect(page.locator("#pin-error")).to_have_text("利用者証明用パスワードが違います。残り2回です")
    expect_state(page, "pin")
    assert dots(page) == 0  # the entered PIN is gone with the state change
    assert verifies.count == 1
    assert card.pin_remaining(PinKind.AUTH) == 2
    screenshots(page, "kiosk-04b-pin-wrong")
    page.evaluate("MT.toggleLang()")  # a message on screen follows the language
    expect(page.locator("#pin-error")).to_have_text("Wrong user-authentication PIN. 2 tries left")
    page.evaluate("MT.toggleLang()")
    # The card is pulled: the next resident sees none of it.
    pull(live_server)
    expect_state(page, "waiting")
    no_resident_left(page)
    assert not page.inner_text("#pin-error")


def test_refused_before_the_pin_pad(
    page, live_server: str, wired: ServiceContext, insert_card: Any, card_templates: Any
) -> None:  # type: ignore[no-untyped-def]
    open_kiosk(page, live_server)
    expect_state(page, "waiting")

    def shown_refusal(card: Any, expected: str, shot: str) -> None:
        before = states(page)
        wired.readers.insert_software_card("0", card, label="test")
        expect(page.locator("#refusal")).to_have_text(expected)
        expect_state(page, "refused")
        assert states(page)[len(before) :] == ["checking", "refused"]  # never "pin"
        screenshots(page, shot)
        pull(live_server)
        expect_state(page, "waiting")
        no_resident_left(page)

    # Not a My Number card.
    shown_refusal(ForeignCard(), "マイナンバーカードではありません", "kiosk-08a-not-mynumber")
    # Unregistered: a good card whose certificate was never linked.
    fresh = card_templates["suzuki-aoi"].copy()
    shown_refusal(
        fresh,
        "このカードは利用登録されていません。市区町村の窓口で登録できます",
        "kiosk-08b-unregistered",
    )
    assert fresh.pin_remaining(PinKind.AUTH) == 3
    # Revoked at the counter.
    revoked = insert_card("1")  # prepared in another reader, out of the kiosk's sight
    serial = issue_over_http(live_server, "1")["certificates"][0]["serial"]
    response = call(
        live_server, "clerk1", "POST", "/api/revocation", {"serial": serial, "reason": "loss"}
    )
    assert response.status_code == 200, response.text
    wired.readers.remove_software_card("1")
    shown_refusal(
        revoked,
        "電子証明書は失効しています。市区町村の窓口にお問い合わせください",
        "kiosk-08c-revoked",
    )
    assert revoked.pin_remaining(PinKind.AUTH) == 3
    # PIN locked: three wrong PINs earlier (elsewhere); the card is refused as it comes.
    locked = card_templates["yamada-taro"].copy()
    jpki = JpkiSession(_channel(locked))
    for _ in range(3):
        with pytest.raises((InvalidPinError, PinBlockedError)):
            jpki.verify_pin(PinKind.AUTH, WRONG)
    assert locked.pin_remaining(PinKind.AUTH) == 0
    shown_refusal(
        locked,
        "利用者証明用パスワードがロックされています。市区町村の窓口で再設定できます",
        "kiosk-08d-locked",
    )


def _channel(card: Any) -> Any:
    from card.protocol import CardChannel

    return CardChannel(SoftwareCardConnection(card))


def test_idle_timeout_clears_the_result(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    issue_over_http(live_server, "0")
    carried_to_kiosk(wired, "0")
    open_kiosk(page, live_server, query="&idle=3&result=60")
    expect_state(page, "pin")
    page.keyboard.type(YAMADA.pins.auth)
    page.keyboard.press("Enter")
    expect_state(page, "result")
    symbol = page.inner_text("#symbol")
    assert _heap_holds(page, symbol)  # the check can see it while it is on screen
    expect(page.locator("#idle")).to_contain_text("秒で最初の画面に戻ります")
    expect_state(page, "waiting", timeout=8000)  # the countdown ran out, card still in
    no_resident_left(page, symbol)
    expect(page.locator("#waiting-title")).to_have_text(
        "カードが置かれたままです。カードをお取りください"
    )
    assert page.locator("#waiting-hint").is_hidden()
    screenshots(page, "kiosk-09-idle-leftover")
    assert _heap_holds(page, symbol) is False
    # The card left in the reader is not read again until it is taken out.
    pull(live_server)
    expect(page.locator("#waiting-title")).to_have_text(
        "マイナンバーカードをカードリーダーに置いてください"
    )
    insert_card("0")
    expect_state(page, "pin")
    # An idle PIN pad goes back too, with its digits.
    page.keyboard.type("12")
    expect_state(page, "waiting", timeout=8000)
    assert dots(page) == 0


def _heap_holds(page, text: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the page's JavaScript heap still holds `text` after a garbage collection
    (a heap snapshot through the DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    chunks: list[str] = []
    cdp.on("HeapProfiler.addHeapSnapshotChunk", lambda event: chunks.append(event["chunk"]))
    cdp.send("HeapProfiler.enable")
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.takeHeapSnapshot", {"reportProgress": False})
    cdp.detach()
    snapshot = "".join(chunks)
    assert '"strings"' in snapshot  # a real snapshot came back
    return text in snapshot


def test_removal_racing_the_answer(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    issue_over_http(live_server, "0")
    carried_to_kiosk(wired, "0")
    open_kiosk(page, live_server)
    expect_state(page, "pin")
    # The login succeeds at the service, but its answer reaches the page only after the
    # card was pulled: the answer belongs to a card that is gone and is dropped.
    late: list[Any] = []

    def answer_late(route: Any) -> None:
        late.append((route, route.fetch()))

    page.route("**/login", answer_late)
    page.keyboard.type(YAMADA.pins.auth)
    page.keyboard.press("Enter")
    expect_state(page, "working")
    for _ in range(300):
        if late:
            break
        page.wait_for_timeout(50)
    route, response = late.pop()
    assert response.status == 200  # the service did log in
    pull(live_server)
    expect_state(page, "waiting")
    expect(page.locator("#waiting-note")).to_have_text(
        "カードが取り外されたため、処理を中止しました"
    )
    with page.expect_response("**/login"):
        route.fulfill(response=response)
    page.wait_for_timeout(300)
    expect_state(page, "waiting")
    assert "result" not in states(page)
    assert "ログインしました" not in page.inner_text("main")
    no_resident_left(page, response.json()["portal_symbol_hint"])
    screenshots(page, "kiosk-10-removed-while-working")

    # Pulled while the service works on it: the answer is an error, still waiting.
    insert_card("0")
    expect_state(page, "pin")
    page.unroute("**/login")

    def pull_then_send(route: Any) -> None:
        pull(live_server)
        route.continue_()

    page.route("**/login", pull_then_send)
    page.keyboard.type(YAMADA.pins.auth)
    page.keyboard.press("Enter")
    expect_state(page, "waiting")
    assert states(page)[-3:] == ["pin", "working", "waiting"]


def test_swapped_card_is_not_sent_the_pin(
    live_server: str, wired: ServiceContext, insert_card: Any
) -> None:
    """The login names the insertion the kiosk checked: a card put in meanwhile gets
    no VERIFY."""
    insert_card("0")
    issue_over_http(live_server, "0")
    carried_to_kiosk(wired, "0")
    checked = wired.readers.get("0").card_serial
    other = insert_card("0")
    verifies = VerifyCounter(wired, "0")
    bearer = {"Authorization": f"Bearer {token(live_server, 'kiosk1')}"}
    import httpx

    with httpx.Client(base_url=live_server, headers={"Origin": live_server}) as http:
        nonce = http.post("/api/auth/challenge", headers=bearer).json()["nonce"]
        response = http.post(
            "/api/readers/0/login",
            json={"pin": YAMADA.pins.auth, "nonce": nonce, "card_serial": checked},
            headers=bearer,
        )
    assert response.status_code == 409 and response.json()["error"]["code"] == "CARD_REMOVED"
    assert verifies.count == 0 and other.pin_remaining(PinKind.AUTH) == 3


def test_session_expiry_and_staff_sign_out(
    page, live_server: str, wired: ServiceContext, insert_card: Any
) -> None:  # type: ignore[no-untyped-def]
    open_kiosk(page, live_server)
    expect_state(page, "waiting")
    # The session ends behind the page's back (expiry or revocation look alike).
    cookie = next(c for c in page.context.cookies() if c["httpOnly"])
    response = call_with(live_server, cookie["value"], "DELETE", "/api/session")
    assert response.status_code == 204
    insert_card("0")  # a resident comes: the check is refused for the session
    expect_state(page, "signin")
    expect(page.locator("#unavailable")).to_be_visible()
    assert "係員にお声がけください" in page.inner_text("#unavailable")
    assert "係員の方へ" in page.inner_text("#signin-note")
    assert "パスワードが違います" not in page.inner_text("body")
    screenshots(page, "kiosk-11-session-expired")

    # Staff sign in again, then sign the kiosk out with the staff button.
    sign_in(page, "kiosk1")
    expect_state(page, "refused")  # that card was never registered
    page.click("#staff")
    expect(page.locator("#staff-dialog")).to_be_visible()
    screenshots(page, "kiosk-12-staff-signout-confirm")
    page.click("#staff-dialog [data-answer=yes]")
    expect_state(page, "signin")
    expect(page.locator("#signin-note")).to_have_text("係員の方へ：端末はサインアウトしました")
    assert page.evaluate("fetch('/api/session').then((r) => r.status)") == 401


def call_with(base: str, session_token: str, method: str, path: str) -> Any:
    import httpx

    with httpx.Client(base_url=base, headers={"Origin": base}, timeout=30) as http:
        return http.request(method, path, headers={"Authorization": f"Bearer {session_token}"})
