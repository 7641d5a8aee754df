"""The suite runs from a clone anywhere: no test reads a path outside the checkout."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"/work/|\bshared/data\b|parents\[\d\]\.parent|Path\([^)]*\.\./")


def test_no_test_names_a_path_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in TESTS.rglob("*.py")
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offenders, offenders
