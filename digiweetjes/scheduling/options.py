"""How the scheduler runs: the ``DIGIWEETJES_SCHEDULE_*`` settings (read in ``config.py``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from digiweetjes.errors import ConfigError
from digiweetjes.scheduling.cadence import Cadence, parse_cadence

#: ``DIGIWEETJES_SCHEDULE_*`` number → (``ScheduleOptions`` field, help); each must be positive.
SCHEDULE_VARIABLES: dict[str, tuple[str, str]] = {
    "DIGIWEETJES_SCHEDULE_GRACE_HOURS": (
        "grace_hours", "hours after its send time an issue is still sent when the scheduler was "
                       "down; later it is marked missed"),
    "DIGIWEETJES_SCHEDULE_WARN_DAYS": (
        "warn_days", "days before a cadence time to warn that no approved issue is waiting"),
    "DIGIWEETJES_SCHEDULE_LEASE_SECONDS": (
        "lease_seconds", "seconds the active scheduler's lease lasts without renewal"),
    "DIGIWEETJES_SCHEDULE_RENEW_SECONDS": (
        "renew_seconds", "seconds between lease renewals (and standby attempts)"),
    "DIGIWEETJES_SCHEDULE_CHECK_SECONDS": (
        "check_seconds", "seconds between the checks for due sends (besides their own jobs)"),
    "DIGIWEETJES_SCHEDULE_HOUSEKEEPING_HOURS": (
        "housekeeping_hours", "hours between housekeeping runs (purge, resume, sync)"),
}
CADENCE_VARIABLE = "DIGIWEETJES_SCHEDULE_CADENCE"


@dataclass(frozen=True)
class ScheduleOptions:
    """The scheduler's settings (``Settings.schedule``)."""

    grace_hours: float = 6.0
    warn_days: float = 3.0
    lease_seconds: float = 15.0
    renew_seconds: float = 5.0
    check_seconds: float = 60.0
    housekeeping_hours: float = 24.0
    #: The regular send time for issues without one of their own; None: no cadence.
    cadence: Cadence | None = None

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.grace_hours)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


def schedule_options(environ: Mapping[str, str], zone: ZoneInfo) -> ScheduleOptions:
    """``ScheduleOptions`` from the environment; ConfigError naming the variable if malformed."""
    values: dict[str, object] = {}
    for name, (option, _help) in SCHEDULE_VARIABLES.items():
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0 or value > 1_000_000:
            shown = raw if len(raw) <= 40 else raw[:40] + "…"
            raise ConfigError(f"{name} moet een positief getal zijn (nu: {shown!r}); laat de "
                              "variabele weg voor de standaardwaarde")
        values[option] = value
    cadence = environ.get(CADENCE_VARIABLE, "").strip()
    if cadence:
        values["cadence"] = parse_cadence(cadence, zone)
    options = ScheduleOptions(**values)  # type: ignore[arg-type]
    if options.renew_seconds * 2 > options.lease_seconds:
        raise ConfigError("DIGIWEETJES_SCHEDULE_RENEW_SECONDS moet hoogstens de helft van "
                          "DIGIWEETJES_SCHEDULE_LEASE_SECONDS zijn, anders verloopt de lease "
                          "van de actieve planner tussen twee verlengingen")
    return options
