"""The pages' one text table (terminal/service/static/texts.json): every error code the
table holds (terminal/codes.py) has a Japanese and an English text, Japanese texts hold no raw code
and no English jargon, and every key the pages use exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jpki.constants import PinKind
from terminal.codes import CODES
from terminal.linkage.types import CertStatus, LinkedCertKind, RevocationReason
from terminal.service.settings import Role

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "terminal" / "service" / "static"
TEXTS: dict[str, dict[str, str]] = json.loads((STATIC / "texts.json").read_text("utf-8"))

# The language toggle names the other language in that language ("English").
LATIN_ALLOWED = {"lang.toggle"}
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def service_codes() -> set[str]:
    """The one error table (terminal/codes.py), plus every code a ServiceError is raised
    with anywhere in terminal/ (a code missing from the table still reaches the pages)."""
    literal = re.compile(r'ServiceError\(\s*"([A-Z][A-Z0-9_]+)"')
    raised = {
        code
        for path in (ROOT / "terminal").rglob("*.py")
        for code in literal.findall(path.read_text("utf-8"))
    }
    return set(CODES) | raised


def test_every_entry_has_both_languages() -> None:
    for key, entry in TEXTS.items():
        assert set(entry) == {"ja", "en"}, key
        assert entry["ja"].strip() and entry["en"].strip(), key


@pytest.mark.parametrize("code", sorted(service_codes()))
def test_every_code_has_a_japanese_and_an_english_text(code: str) -> None:
    entry = TEXTS.get(f"err.{code}")
    assert entry is not None, f"texts.json has no err.{code}"
    assert entry["ja"] and entry["en"]


def test_japanese_texts_hold_no_code_or_english_jargon() -> None:
    offenders = {
        key: entry["ja"]
        for key, entry in TEXTS.items()
        if key not in LATIN_ALLOWED and re.search(r"[A-Za-z]", PLACEHOLDER.sub("", entry["ja"]))
    }
    assert offenders == {}
    # The fallback for a code without a text never shows the code in Japanese.
    assert "{code}" not in TEXTS["err.generic"]["ja"]


def test_placeholders_agree_between_languages() -> None:
    for key, entry in TEXTS.items():
        ja, en = set(PLACEHOLDER.findall(entry["ja"])), set(PLACEHOLDER.findall(entry["en"]))
        if key == "err.generic":  # the raw code is shown in English only
            en.discard("{code}")
        assert ja == en, key


def _keys_used_by_pages() -> set[str]:
    used: set[str] = set()
    for html in STATIC.glob("*.html"):
        used |= set(re.findall(r'data-i18n(?:-label)?="([^"]+)"', html.read_text("utf-8")))
    for js in STATIC.glob("*.js"):
        source = js.read_text("utf-8")
        used |= set(re.findall(r'key: "([a-z][\w.-]*)"', source))
        used |= set(re.findall(r'\bt\("([a-z][\w.-]*)"', source))
        used |= set(re.findall(r'say\([^,]+, \{ key: "([a-z][\w.-]*)"', source))
    return {key for key in used if not key.endswith(".")}  # prefixes of composed keys


def test_every_key_the_pages_use_exists() -> None:
    assert _keys_used_by_pages() - set(TEXTS) == set()


def test_every_value_behind_a_composed_key_exists() -> None:
    """Keys the pages compose from service values: PIN kinds, certificate kinds and
    statuses, revocation reasons, roles."""
    composed = (
        {f"pin.name.{kind.value}" for kind in PinKind}
        | {f"cert.kind.{kind.value}" for kind in LinkedCertKind}
        | {f"cert.status.{status.value}" for status in CertStatus}
        | {f"reason.{reason.value}" for reason in RevocationReason}
        | {f"role.{role.value}" for role in Role}
        | {f"outcome.{kind.value}" for kind in LinkedCertKind}
        | {f"outcome.replaces.{kind.value}" for kind in LinkedCertKind}
    )
    assert composed - set(TEXTS) == set()


def test_progress_steps_have_texts() -> None:
    """Steps the service reports as identifiers (card.progress("verify-pin")) have a
    text; free-form steps fall back to step.other."""
    literal = re.compile(r'progress\("([a-z][a-z-]*)"\)')
    steps = {
        step
        for path in (ROOT / "terminal").rglob("*.py")
        for step in literal.findall(path.read_text("utf-8"))
    }
    assert steps, "no progress steps found: the pattern is stale"
    assert {f"step.{step}" for step in steps} - set(TEXTS) == set()
