"""Dates at the source's precision: reading, showing, ordering and the "new since" cut-off."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from digiweetjes.content.sourcedates import Precision, parse_source_date
from digiweetjes.render.formatting import date_time, euro, long_date, month_year, reading_date

NB = "\u00a0"


@pytest.mark.parametrize(("written", "shown", "iso", "first", "last"), [
    (date(2022, 11, 15), f"15{NB}november{NB}2022", "2022-11-15", "2022-11-15", "2022-11-15"),
    ("15 november 2022", f"15{NB}november{NB}2022", "2022-11-15", "2022-11-15", "2022-11-15"),
    ("2022-10", f"oktober{NB}2022", "2022-10", "2022-10-01", "2022-10-31"),
    ("Oktober  2022", f"oktober{NB}2022", "2022-10", "2022-10-01", "2022-10-31"),
    ("februari 2024", f"februari{NB}2024", "2024-02", "2024-02-01", "2024-02-29"),
    ("voorjaar 2022", f"voorjaar{NB}2022", "2022", "2022-03-01", "2022-05-31"),
    ("lente 2022", f"lente{NB}2022", "2022", "2022-03-01", "2022-05-31"),
    ("najaar 2023", f"najaar{NB}2023", "2023", "2023-09-01", "2023-11-30"),
    ("begin 2023", f"begin{NB}2023", "2023", "2023-01-01", "2023-04-30"),
    ("midden 2026", f"midden{NB}2026", "2026", "2026-05-01", "2026-08-31"),
    ("eind 2024", f"eind{NB}2024", "2024", "2024-09-01", "2024-12-31"),
    (2023, "2023", "2023", "2023-01-01", "2023-12-31"),
    ("2023", "2023", "2023", "2023-01-01", "2023-12-31"),
])
def test_a_date_is_shown_as_precisely_as_it_was_written(written, shown, iso, first, last):
    value = parse_source_date(written)
    assert reading_date(value) == shown
    assert long_date(value) == shown.replace(NB, " ")   # terminals: plain spaces
    assert value.isoformat() == iso   # a valid HTML <time datetime>: day, month or year
    assert (value.first.isoformat(), value.last.isoformat()) == (first, last)


@pytest.mark.parametrize(("written", "message"), [
    ("oktobre 2022", "'oktobre 2022' is geen datum die ik ken (bedoelde je 'oktober 2022'?): "
                     "schrijf 2022-10-01"),
    ("voorjaar", "'voorjaar' is geen datum die ik ken"),
    ("winter 2022", "een winter loopt over twee jaren: schrijf de maand (december 2022)"),
    ("2022-13", "'2022-13' is geen bestaande datum: schrijf"),
    ("30 februari 2023", "'30 februari 2023' is geen bestaande datum"),
    ("15 voorjaar 2022", "'15 voorjaar 2022' is geen datum die ik ken"),
    # A right word with an impossible year gets no hint that repeats it.
    ("voorjaar 99999", "'voorjaar 99999' is geen datum die ik ken: schrijf"),
    # A direction override is shown escaped, never obeyed by the terminal.
    ("oktober 2022\u202e", "'oktober 2022\\u202e' is geen datum die ik ken"),
    (datetime(2022, 11, 15, 9, 0), "schrijf alleen de datum, zonder uur"),
    (True, "moet een datum zijn: 2022-10-01"),
    (20.5, "moet een datum zijn"),
])
def test_anything_else_is_refused_in_dutch_with_the_forms_it_could_take(written, message):
    with pytest.raises(ValueError) as caught:
        parse_source_date(written)
    assert str(caught.value).startswith(message)


def test_newest_first_orders_by_the_first_possible_day_then_the_last():
    written = ["2023", "15 november 2022", "november 2022", "eind 2022", "oktober 2022",
               "voorjaar 2022", "2022", "1 januari 2023"]
    ordered = sorted(map(parse_source_date, written), reverse=True)
    assert [long_date(d).replace(NB, " ") for d in ordered] == [
        "2023", "1 januari 2023", "15 november 2022", "november 2022", "oktober 2022",
        "eind 2022", "voorjaar 2022", "2022"]


@pytest.mark.parametrize(("written", "cut_off", "new"), [
    ("oktober 2022", date(2022, 9, 30), True),
    ("oktober 2022", date(2022, 10, 15), True),    # may have happened after the 15th
    ("oktober 2022", date(2022, 10, 30), True),
    ("oktober 2022", date(2022, 10, 31), False),   # the whole month lies before the cut-off
    ("voorjaar 2022", date(2022, 5, 30), True),
    ("voorjaar 2022", date(2022, 5, 31), False),
    ("2023", date(2023, 12, 30), True),
    ("2023", date(2023, 12, 31), False),
    ("15 november 2022", date(2022, 11, 14), True),
    ("15 november 2022", date(2022, 11, 15), False),  # same day as the previous issue: not new
])
def test_a_fact_is_new_when_its_last_possible_day_lies_after_the_cut_off(written, cut_off, new):
    assert parse_source_date(written).after(cut_off) is new


def test_equal_dates_compare_equal_and_precision_is_kept():
    assert parse_source_date("2022-10") == parse_source_date("oktober 2022")
    assert parse_source_date("2022-10") != parse_source_date(date(2022, 10, 1))
    assert parse_source_date("lente 2022").precision is Precision.SEASON


def test_dates_and_amounts_never_break_inside():
    assert reading_date(date(2026, 12, 5)) == f"5{NB}december{NB}2026"
    assert reading_date(datetime(2026, 12, 5, 9, 0)) == f"5{NB}december{NB}2026"
    assert long_date(date(2026, 12, 5)) == "5 december 2026"
    assert month_year(date(2022, 10, 1)) == f"oktober{NB}2022"
    moment = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert date_time(moment) == "5 december 2026 om 09:00"   # admin pages only
    assert euro(50_000_000) == f"€{NB}50{NB}miljoen"
    assert euro(2_890_000) == f"€{NB}2,89{NB}miljoen"
    assert euro(250_000) == f"€{NB}250.000"
    assert euro(None) == "niet bekend"
