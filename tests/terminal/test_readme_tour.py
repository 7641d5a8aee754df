"""The README's tour is true as written: the files it names exist, and the table of
which card sits in which reader matches the personas (and, in
tests/service/test_demo_smoke.py, the running demo)."""

from __future__ import annotations

import re
from pathlib import Path

from simulators.personas import load_personas

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")
ROW = re.compile(r"^\| Software Reader (\d+) \| `([a-z-]+)`(.*?)\| (not linked|linked)", re.M)


def readme_cards() -> list[tuple[int, str, str, bool]]:
    """(reader index, persona id, the rest of the card cell, linked) per table row."""
    return [
        (int(index), persona, rest, state == "linked")
        for index, persona, rest, state in ROW.findall(README)
    ]


def test_the_reader_table_names_each_persona_with_its_own_values() -> None:
    rows = readme_cards()
    assert len(rows) == 3
    personas = load_personas()
    for index, persona_id, rest, linked in rows:
        persona = personas[index]  # the demo puts persona i in reader i
        assert persona.id == persona_id
        assert linked == (index > 0)  # reader 0 keeps an unlinked card for issuance
        for pin in re.findall(r"PINs? ([0-9A-Z /]+)", rest):
            values = [value.strip() for value in pin.split("/")]
            assert (
                values
                == [persona.pins.auth, persona.pins.sign, persona.pins.cardinfo][: len(values)]
            )
        code = re.search(r"resident code `(\d+)`", rest)
        if code:
            assert code.group(1) == persona.resident_code


def test_the_tour_text_agrees_with_the_table() -> None:
    personas = load_personas()
    assert f"`{personas[0].resident_code}`" in README
    kiosk = re.search(r"/kiosk\?reader=(\d+)`: Software Reader (\d+), ([a-z-]+)'s card", README)
    assert kiosk is not None
    assert kiosk.group(1) == kiosk.group(2)
    persona = personas[int(kiosk.group(1))]
    assert kiosk.group(3) == persona.id
    assert f"type `{persona.pins.auth}`" in README


def test_files_the_tour_names_exist() -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    named = set(re.findall(r"\b(docs/[\w/.-]+\.\w+)", README))
    assert "docs/tour/contract.pdf" in named
    for path in named:
        assert (ROOT / path).is_file(), path
    with (ROOT / "docs/tour/contract.pdf").open("rb") as handle:
        reader = PdfFileReader(handle, strict=True)
        assert reader.root["/Pages"]["/Count"] == 1
