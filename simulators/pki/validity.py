"""Certificate lifetimes: JPKI card certificates end on the holder's 5th birthday after
issuance, at the end of that day in Japan (23:59:59 JST = 14:59:59 UTC, like the real
certificate's notAfter 2024-05-02 14:59:59Z)."""

from __future__ import annotations

import datetime as dt

from jpki.clock import utc_now as utc_now  # the one clock, re-exported

JST = dt.timezone(dt.timedelta(hours=9), "JST")
CARD_CERT_BIRTHDAYS = 5


def as_utc(moment: dt.datetime | None) -> dt.datetime:
    """An aware UTC instant with whole seconds (X.509 times carry no fractions).
    A naive datetime is taken as UTC."""
    moment = moment or utc_now()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def birthday_in(year: int, birth_date: dt.date) -> dt.date:
    """The birthday in `year`. Someone born on 29 February has it on 28 February in common
    years (the day before 1 March, when Japanese law counts the year as complete)."""
    if birth_date.month == 2 and birth_date.day == 29:
        try:
            return dt.date(year, 2, 29)
        except ValueError:
            return dt.date(year, 2, 28)
    return birth_date.replace(year=year)


def nth_birthday_after(issued_on: dt.date, birth_date: dt.date, n: int) -> dt.date:
    """The n-th birthday strictly after the issuance day."""
    year = issued_on.year
    if birthday_in(year, birth_date) <= issued_on:
        year += 1
    return birthday_in(year + n - 1, birth_date)


def end_of_day_jst(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=JST).astimezone(dt.UTC)


def card_certificate_not_after(issued_at: dt.datetime, birth_date: dt.date) -> dt.datetime:
    issued_on = as_utc(issued_at).astimezone(JST).date()
    return end_of_day_jst(nth_birthday_after(issued_on, birth_date, CARD_CERT_BIRTHDAYS))


def add_years(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a common year
        return moment.replace(year=moment.year + years, day=28)
