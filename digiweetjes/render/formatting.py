"""Dutch (nl-BE) formatting of dates and amounts, through Babel.

What readers see (the templates' ``long_date``, ``month_year`` and ``euro`` filters) is joined
with non-breaking spaces ("5 december 2026", "€ 50 miljoen"): nobody should find "5" at the end
of one line and "december" on the next, in the email, the text part (``textwrap`` does not break
at U+00A0) or the site. ``long_date`` called from Python (terminal output) keeps plain spaces.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from digiweetjes.config import TIMEZONE
from digiweetjes.content.sourcedates import Precision, SourceDate

# Parsed once: Babel would parse the locale string again on every call, and an issue formats
# a hundred dates and amounts per compile. The pure functions below are cached for the same
# reason (an issue repeats the same few dates and budgets).
LOCALE = Locale.parse("nl_BE")
_MILLION = 1_000_000
NBSP = "\u00a0"


def long_date(value: date | datetime | SourceDate) -> str:
    """``5 december 2026``; a date at the source's precision as the source words it:
    ``oktober 2022``, ``voorjaar 2022``, ``eind 2024``, ``2023``. Plain spaces (terminals)."""
    return reading_date(value).replace(NBSP, " ")


def reading_date(value: date | datetime | SourceDate) -> str:
    """``long_date`` with non-breaking spaces, for what readers see (the templates' filter)."""
    if isinstance(value, SourceDate):
        return _source_date(value)
    return _long_date(value.date() if isinstance(value, datetime) else value)


@lru_cache(maxsize=4096)
def _long_date(day: date) -> str:
    return _unbroken(format_date(day, format="d MMMM y", locale=LOCALE))


@lru_cache(maxsize=1024)
def _source_date(value: SourceDate) -> str:
    if value.precision is Precision.DAY:
        return _long_date(value.first)
    if value.precision is Precision.MONTH:
        return month_year(value.first)
    if value.precision is Precision.YEAR:
        return str(value.year)
    return f"{value.word}{NBSP}{value.year}"


@lru_cache(maxsize=1024)
def month_year(value: date | SourceDate) -> str:
    """``oktober 2022``."""
    day = value.first if isinstance(value, SourceDate) else value
    return _unbroken(format_date(day, format="MMMM y", locale=LOCALE))


def _unbroken(text: str) -> str:
    return text.replace(" ", NBSP)


def date_time(value: datetime, tz: str = TIMEZONE) -> str:
    """``5 december 2026 om 09:00``."""
    # Only admin pages show this, in table cells and sentences where a break does no harm.
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
        return f"€{NBSP}{number}{NBSP}miljoen"
    return f"€{NBSP}{format_decimal(amount, format='#,##0', locale=LOCALE)}"
