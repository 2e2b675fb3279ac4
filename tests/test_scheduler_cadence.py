"""The cadence setting and Brussels wall-clock times: parsing, Dutch errors, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digiweetjes.config import BRUSSELS, Settings
from digiweetjes.errors import ConfigError
from digiweetjes.scheduling import parse_cadence
from digiweetjes.scheduling.cadence import wall_clock_note


def test_first_tuesday_at_nine_is_monthly_in_brussels_time() -> None:
    cadence = parse_cadence("First  Tuesday 09:00", BRUSSELS)
    after = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 1 December, 09:00 CET
    assert cadence.next_after(after) == datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    assert cadence.next_after(after - timedelta(seconds=1)) == after


def test_a_nine_oclock_cadence_stays_nine_across_both_switches() -> None:
    cadence = parse_cadence("0 9 * * sun", BRUSSELS)  # the cron spelling
    march = [cadence.next_after(datetime(2027, 3, d, tzinfo=UTC)) for d in (20, 27)]
    assert march == [datetime(2027, 3, 21, 8, 0, tzinfo=UTC),   # CET (+1)
                     datetime(2027, 3, 28, 7, 0, tzinfo=UTC)]   # CEST (+2): last Sunday
    october = [cadence.next_after(datetime(2027, 10, d, 9, tzinfo=UTC)) for d in (30, 31)]
    assert october == [datetime(2027, 10, 31, 8, 0, tzinfo=UTC),  # CET again on the day
                       datetime(2027, 11, 7, 8, 0, tzinfo=UTC)]
    assert all(moment.astimezone(BRUSSELS).hour == 9 for moment in march + october)


def test_the_last_cadence_time_within_a_window() -> None:
    cadence = parse_cadence("every monday 09:00", BRUSSELS)
    monday = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    assert cadence.last_at_or_before(monday + timedelta(hours=2),
                                     horizon=timedelta(hours=6)) == monday
    assert cadence.last_at_or_before(monday + timedelta(hours=7),
                                     horizon=timedelta(hours=6)) is None


def test_night_times_on_switch_days_are_named() -> None:
    gap = wall_clock_note(datetime(2027, 3, 28, 2, 30), BRUSSELS)
    assert gap is not None and "bestaat niet" in gap and "03:30 zomertijd" in gap
    twice = wall_clock_note(datetime(2027, 10, 31, 2, 30), BRUSSELS)
    assert twice is not None and "twee keer" in twice
    assert wall_clock_note(datetime(2027, 10, 30, 2, 30), BRUSSELS) is None


@pytest.mark.parametrize("text", ["first funday 09:00", "0 25 * * *", "soms", "first tuesday 9:75",
                                  "tenth monday 09:00"])
def test_a_malformed_cadence_is_a_dutch_error_naming_the_variable(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^DIGIWEETJES_SCHEDULE_CADENCE: .* is geen geldig "
                                          r"ritme; schrijf bijvoorbeeld"):
        Settings.from_env({"DIGIWEETJES_SCHEDULE_CADENCE": text})


def test_schedule_settings_from_the_environment() -> None:
    settings = Settings.from_env({"DIGIWEETJES_SCHEDULE_GRACE_HOURS": "2.5",
                                  "DIGIWEETJES_SCHEDULE_CADENCE": "last friday 10:00"})
    assert settings.schedule.grace == timedelta(hours=2, minutes=30)
    assert settings.schedule.cadence is not None
    assert settings.schedule.cadence.text == "last friday 10:00"
    assert Settings.from_env({}).schedule.grace_hours == 6


@pytest.mark.parametrize("name, value", [
    ("DIGIWEETJES_SCHEDULE_GRACE_HOURS", "zes"), ("DIGIWEETJES_SCHEDULE_GRACE_HOURS", "-1"),
    ("DIGIWEETJES_SCHEDULE_LEASE_SECONDS", "nan"), ("DIGIWEETJES_SCHEDULE_WARN_DAYS", "0")])
def test_a_bad_schedule_number_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name} moet een positief getal zijn"):
        Settings.from_env({name: value})


def test_renewal_must_fit_twice_in_the_lease() -> None:
    with pytest.raises(ConfigError, match="DIGIWEETJES_SCHEDULE_RENEW_SECONDS"):
        Settings.from_env({"DIGIWEETJES_SCHEDULE_LEASE_SECONDS": "8",
                           "DIGIWEETJES_SCHEDULE_RENEW_SECONDS": "5"})
