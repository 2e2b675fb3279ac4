"""Dutch (nl-BE) formatting of dates and amounts, through Babel."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from digiweetjes.config import TIMEZONE

# Parsed once: Babel would parse the locale string again on every call, and an issue formats
# a hundred dates and amounts per compile. The pure functions below are cached for the same
# reason (an issue repeats the same few dates and budgets).
LOCALE = Locale.parse("nl_BE")
_MILLION = 1_000_000


def long_date(value: date | datetime) -> str:
    """``5 december 2026``."""
    return _long_date(value.date() if isinstance(value, datetime) else value)


@lru_cache(maxsize=4096)
def _long_date(day: date) -> str:
    return format_date(day, format="d MMMM y", locale=LOCALE)


@lru_cache(maxsize=1024)
def month_year(value: date) -> str:
    """``oktober 2022``."""
    return format_date(value, format="MMMM y", locale=LOCALE)


def date_time(value: datetime, tz: str = TIMEZONE) -> str:
    """``5 december 2026 om 09:00``."""
    return format_datetime(value, format="d MMMM y 'om' HH:mm", tzinfo=tz, locale=LOCALE)


@lru_cache(maxsize=1024)
def euro(amount: int | None) -> str:
    """``€ 50 miljoen``, ``€ 2,89 miljoen``, ``€ 250.000``; amounts of a million and over in
    millions (at most two decimals, as the seed writes them), smaller ones in full."""
    if amount is None:
        return "niet bekend"
    if amount >= _MILLION:
        millions = Decimal(amount) / _MILLION
        number = format_decimal(millions, format="#,##0.##", locale=LOCALE)
        return f"€ {number} miljoen"
    return f"€ {format_decimal(amount, format='#,##0', locale=LOCALE)}"
