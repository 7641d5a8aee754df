"""Accessibility and wording checked in the browser: every error code renders without a
raw code in Japanese (through the page's own message code), text contrast >= 4.5:1,
focus ring and disabled controls >= 3:1 (all from computed styles), named controls."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from terminal.service.context import ServiceContext
from tests.browser.kiosk_helpers import sign_in
from tests.service.test_page_texts import service_codes

pytestmark = pytest.mark.browser

CONTRAST = """
(() => {
  const parse = (c) => {
    const p = c.match(/rgba?\\(([^)]+)\\)/)[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const blend = (top, base) => ({
    r: top.r * top.a + base.r * (1 - top.a), g: top.g * top.a + base.g * (1 - top.a),
    b: top.b * top.a + base.b * (1 - top.a), a: 1,
  });
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (x, y) => {
    const [a, b] = [lum(x), lum(y)].sort((m, n) => n - m);
    return (a + 0.05) / (b + 0.05);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    return layers.reverse().reduce((base, c) => blend(c, base), { r: 255, g: 255, b: 255, a: 1 });
  };
  const visible = (el) => el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== "hidden";
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + " '" + (el.textContent || "").trim().slice(0, 30) + "'";
  const text = [], disabled = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!visible(el) || el.closest("[aria-hidden=true]")) continue;
    if (el.matches(".visually-hidden")) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const bg = background(el);
    if (own) {
      const fg = blend(parse(getComputedStyle(el).color), bg);
      const need = el.matches(":disabled, :disabled *") ? 3 : 4.5;
      text.push([name(el), Math.round(ratio(fg, bg) * 100) / 100, need]);
    }
    if (el.matches("button:disabled, input:disabled, select:disabled")) {
      const around = background(el.parentElement);
      const border = blend(parse(getComputedStyle(el).borderTopColor), around);
      disabled.push([name(el), Math.round(ratio(border, around) * 100) / 100]);
    }
  }
  return { text, disabled };
})()
"""

FOCUS_RING = """
(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const parse = (c) => c.match(/rgba?\\(([^)]+)\\)/)[1].split(/[ ,\\/]+/)
    .filter(Boolean).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = [255, 255, 255];
  for (let e = el.parentElement; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c.length < 4 || c[3] === 1) { bg = c; break; }
  }
  const ring = parse(style.outlineColor);
  const [a, b] = [lum(ring), lum(bg)].sort((m, n) => n - m);
  const label = (el.textContent || el.name || "").trim().slice(0, 20);
  return { name: el.tagName + "#" + el.id + " " + label,
           style: style.outlineStyle, width: parseFloat(style.outlineWidth),
           ratio: (a + 0.05) / (b + 0.05) };
})()
"""


def check_contrast(page) -> None:  # type: ignore[no-untyped-def]
    report = page.evaluate(CONTRAST)
    assert report["text"], "no text found: the check looked at nothing"
    low = [(name, got, need) for name, got, need in report["text"] if got < need]
    assert low == []
    assert [(name, got) for name, got in report["disabled"] if got < 3] == []


def check_focus_ring(page, stops: int) -> list[str]:  # type: ignore[no-untyped-def]
    seen = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring is None:
            continue
        seen.append(ring["name"])
        assert ring["style"] != "none" and ring["width"] >= 2, ring
        assert ring["ratio"] >= 3, ring
    return seen


def test_every_error_code_renders_in_both_languages(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/kiosk")
    expect(page.locator("body")).to_have_attribute("data-state", "signin")
    rendered = page.evaluate(
        """(codes) => {
             const out = [];
             for (const lang of ["ja", "en"]) {
               if (MT.lang !== lang) MT.toggleLang();
               for (const code of codes) {
                 for (const pin of [undefined, "auth", "sign", "cardinfo"]) {
                   const body = { error: { code, message: "x", remaining: 2, pin } };
                   out.push([lang, code, pin || "", MT.errorText(new MT.ApiError(422, body))]);
                 }
               }
             }
             return out;
           }""",
        sorted(service_codes()),
    )
    assert len(rendered) == 2 * 4 * len(service_codes())
    for lang, code, pin, message in rendered:
        assert message and not message.startswith("err."), (lang, code, pin)
        if lang == "ja":
            assert code not in message and not any(c.isascii() and c.isalpha() for c in message), (
                code,
                pin,
                message,
            )
    ja = {(code, pin): message for lang, code, pin, message in rendered if lang == "ja"}
    assert ja[("PIN_INCORRECT", "sign")] == "署名用パスワードが違います。残り2回です"
    assert ja[("PIN_INCORRECT", "")] == "暗証番号が違います。残り2回です"


def check_names(page) -> None:  # type: ignore[no-untyped-def]
    """Every visible input, select and button has an accessible name."""
    checked = 0
    for role in ("radio", "textbox", "combobox", "button"):
        for element in page.get_by_role(role).all():
            if element.is_visible():
                expect(element).to_have_accessible_name(re.compile(r"\S"))
                checked += 1
    assert checked >= 3


def with_simulator(ctx: ServiceContext, card_templates: Any) -> None:
    """Cards in the dev wing's library: the simulator panel (and the kiosk's reader
    choice) are shown, so their controls are checked too."""
    from terminal.dev.wing import DevWing

    DevWing.of(ctx).card_library["sato-hanako"] = card_templates["sato-hanako"].copy()


def test_kiosk_contrast_focus_and_names(
    page, live_server: str, wired: ServiceContext, insert_card: Any, card_templates: Any
) -> None:  # type: ignore[no-untyped-def]
    with_simulator(wired, card_templates)
    page.goto(f"{live_server}/kiosk?reader=0")
    expect(page.locator("body")).to_have_attribute("data-state", "signin")
    check_contrast(page)
    sign_in(page, "kiosk1")
    expect(page.locator("body")).to_have_attribute("data-state", "waiting")
    insert_card("0")  # unregistered: refused
    expect(page.locator("body")).to_have_attribute("data-state", "refused")
    check_contrast(page)
    # The PIN pad with its disabled OK key, on a registered card.
    from tests.browser.kiosk_helpers import issue_over_http

    wired.readers.remove_software_card("0")
    insert_card("1")
    issue_over_http(live_server, "1")
    card = wired.readers.remove_software_card("1")
    wired.readers.insert_software_card("0", card)
    expect(page.locator("body")).to_have_attribute("data-state", "pin")
    check_contrast(page)
    # The pad keys are never a Tab stop; the header's buttons are, with a visible ring.
    stops = check_focus_ring(page, 4)
    assert stops and not any("data-key" in s or s.startswith("BUTTON# 1") for s in stops)
    assert page.locator("#keys button[tabindex='0'], #keys button:not([tabindex])").count() == 0
    expect(page.locator("#simulator")).to_be_visible()
    expect(page.locator("#reader")).to_have_accessible_name("カードリーダー")
    expect(page.locator("#sim-card")).to_have_accessible_name("ソフトウェアカード")
    check_names(page)


def test_counter_contrast_focus_and_names(
    page, live_server: str, wired: ServiceContext, insert_card: Any, card_templates: Any
) -> None:  # type: ignore[no-untyped-def]
    with_simulator(wired, card_templates)
    insert_card("0")
    page.goto(f"{live_server}/counter")
    expect(page.locator("body")).to_have_attribute("data-state", "signin")
    sign_in(page, "clerk1")
    page.wait_for_selector("#card-summary table")
    check_contrast(page)
    seen = check_focus_ring(page, 12)
    assert len(seen) >= 8
    # Tabs: role=tab with aria-selected, one of them selected.
    tabs = page.locator("[role=tablist] [role=tab]")
    assert tabs.count() == 7  # 4 counter tabs + the 3 card-life tabs (issue 15)
    assert page.locator("[role=tab][aria-selected=true]").count() == 1
    expect(page.locator("#simulator")).to_be_visible()
    check_names(page)
    # The check itself can fail: grey text on white is caught.
    page.evaluate(
        """() => { const p = document.createElement('p'); p.textContent = '薄い文字';
                   p.style.color = '#aaaaaa'; document.querySelector('main').append(p); }"""
    )
    with pytest.raises(AssertionError, match="薄い文字"):
        check_contrast(page)
