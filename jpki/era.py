"""Japanese era (元号) dates: the card-surface applet's birth-date key and 照合番号B write
the birth year as the two-digit year of the era (1980-02-17 -> Shōwa 55 -> 550217)."""

from __future__ import annotations

import datetime as dt

# First day of each era, newest first.
ERAS: tuple[tuple[str, dt.date], ...] = (
    ("令和", dt.date(2019, 5, 1)),
    ("平成", dt.date(1989, 1, 8)),
    ("昭和", dt.date(1926, 12, 25)),
    ("大正", dt.date(1912, 7, 30)),
    ("明治", dt.date(1868, 1, 25)),
)


def era_of(date: dt.date) -> tuple[str, int]:
    """(era name, year of the era) of a Gregorian date: 1980-02-17 -> (昭和, 55)."""
    for name, start in ERAS:
        if date >= start:
            return name, date.year - start.year + 1
    raise ValueError(f"{date} is before the Meiji era")


def era_yymmdd(date: dt.date) -> str:
    """The 6-digit era date the card-surface applet takes: 1980-02-17 -> "550217"."""
    _, year = era_of(date)
    return f"{year % 100:02d}{date.month:02d}{date.day:02d}"
