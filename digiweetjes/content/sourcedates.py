"""Dates at the precision the source gives: a day, a month, a season, a part of a year, a year.

The source page says "oktober 2022", "in het voorjaar 2022", "vanaf 2023", "tot eind 2024".
Writing those as 1 oktober 2022 or 1 april 2022 invents a precision the source does not have, so
a fact keeps the date as the source words it and is shown that way.

Each ``SourceDate`` stands for the days it may be: ``first`` to ``last``. Seasons are the
meteorological ones the KMI uses (voorjaar maart-mei, zomer juni-augustus, najaar
september-november); winter straddles two years, so it is refused rather than guessed. A year's
parts are thirds: begin januari-april, midden mei-augustus, eind september-december.

Ordering (newest first in the issue) is by ``first``, then ``last``: "november 2022" sorts before
"15 november 2022", and "2023" after every day of 2022. A fact is *new since* a day when its
``last`` possible day lies after that day: "oktober 2022" still counts as new for an issue whose
previous issue went out on 20 oktober 2022, because it may have happened after it. Showing a
fact once too often is a smaller harm than never showing it.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import total_ordering
from typing import Any

from pydantic_core import core_schema

from digiweetjes.suggest import closest

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")
# word → (first month, last month) of the year it names
SEASONS = {"voorjaar": (3, 5), "lente": (3, 5), "zomer": (6, 8), "najaar": (9, 11),
           "herfst": (9, 11)}
PARTS = {"begin": (1, 4), "midden": (5, 8), "eind": (9, 12), "einde": (9, 12)}
_WORDS = (*MONTHS, *SEASONS, *PARTS)

_FORMS = ("2022-10-01 of 1 oktober 2022 (een dag), 2022-10 of oktober 2022 (een maand), "
          "voorjaar 2022 (een seizoen), eind 2024 (begin, midden of eind van een jaar) "
          "of 2023 (een jaar)")


class Precision(StrEnum):
    DAY = "dag"
    MONTH = "maand"
    SEASON = "seizoen"
    PART = "deel van een jaar"
    YEAR = "jaar"


@total_ordering
@dataclass(frozen=True)
class SourceDate:
    """A date as precise as its source: the days ``first`` to ``last`` and how it is named."""

    precision: Precision
    first: date
    last: date
    word: str = ""   # the season or part of the year as written ("voorjaar", "eind")

    @property
    def year(self) -> int:
        return self.first.year

    def isoformat(self) -> str:
        """For ``<time datetime>``: a day, a month, or the year (HTML has no season form)."""
        if self.precision is Precision.DAY:
            return self.first.isoformat()
        if self.precision is Precision.MONTH:
            return self.first.isoformat()[:7]
        return f"{self.year:04d}"

    def after(self, day: date) -> bool:
        """True when this may lie after ``day`` (its last possible day does)."""
        return self.last > day

    def _key(self) -> tuple[date, date]:
        return (self.first, self.last)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SourceDate):
            return NotImplemented
        return self._key() < other._key()

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(parse_source_date)


def day(value: date) -> SourceDate:
    return SourceDate(Precision.DAY, value, value)


def month(year: int, number: int) -> SourceDate:
    return SourceDate(Precision.MONTH, date(year, number, 1),
                      date(year, number, monthrange(year, number)[1]))


def year(value: int) -> SourceDate:
    return SourceDate(Precision.YEAR, date(value, 1, 1), date(value, 12, 31))


def _months(precision: Precision, word: str, year_: int, span: tuple[int, int]) -> SourceDate:
    start, end = span
    return SourceDate(precision, date(year_, start, 1),
                      date(year_, end, monthrange(year_, end)[1]), word)


_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_WORDED = re.compile(r"^(?:(\d{1,2}) )?([a-z]+) (\d{4})$")


def parse_source_date(value: object) -> SourceDate:
    """A SourceDate from what YAML gives; a Dutch ``ValueError`` saying the forms otherwise."""
    if isinstance(value, SourceDate):
        return value
    if isinstance(value, datetime):
        raise ValueError("schrijf alleen de datum, zonder uur (bv. 2022-11-15)")
    if isinstance(value, date):
        return day(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"moet een datum zijn: {_FORMS}")
    text = " ".join(str(value).lower().split())
    try:
        parsed = _parse_text(text)
    except _WinterError:
        raise ValueError("een winter loopt over twee jaren: schrijf de maand (december 2022) "
                         "of het deel van het jaar (begin 2023)") from None
    except ValueError as exc:  # date() refusing 2022-02-30 or month 13
        raise ValueError(f"{value!r} is geen bestaande datum: schrijf {_FORMS}") from exc
    if parsed is None:
        # repr: a control or direction character in the value is shown, not obeyed.
        raise ValueError(f"{value!r} is geen datum die ik ken{_hint(text)}: schrijf {_FORMS}")
    return parsed


def _parse_text(text: str) -> SourceDate | None:
    if match := _ISO_DAY.match(text):
        return day(date(*map(int, match.groups())))
    if match := _ISO_MONTH.match(text):
        found_year, number = map(int, match.groups())
        return month(found_year, number) if 1 <= number <= 12 else _impossible()
    if match := _YEAR.match(text):
        return year(int(match.group(1)))
    match = _WORDED.match(text)
    if match is None:
        return None
    day_text, word, year_text = match.groups()
    found_year = int(year_text)
    if word in MONTHS:
        number = MONTHS.index(word) + 1
        if day_text:
            return day(date(found_year, number, int(day_text)))
        return month(found_year, number)
    if day_text:
        return None
    if word == "winter":
        raise _WinterError
    if word in SEASONS:
        return _months(Precision.SEASON, word, found_year, SEASONS[word])
    if word in PARTS:
        return _months(Precision.PART, word, found_year, PARTS[word])
    return None


class _WinterError(ValueError):
    pass


def _impossible() -> SourceDate:
    raise ValueError("no such month")


def _hint(text: str) -> str:
    words = [w for w in text.split() if not w.isdigit()]
    if len(words) != 1:
        return ""
    match = closest(words[0], _WORDS)
    if match is None or match == words[0]:
        return ""  # the word is right: the year is what is wrong
    return f" (bedoelde je {text.replace(words[0], match)!r}?)"
