"""When issues go out: the scheduler (``scheduler.py``, ``digiweetjes scheduler``).

``options`` and ``cadence`` are its settings; ``lease`` keeps one scheduler active; ``due``
decides, for a moment in time, what to send, skip or mark missed; ``housekeeping`` runs the
periodic chores; ``runner`` wires them into APScheduler with its SQLAlchemy job store. Only
``options`` and ``cadence`` are imported here, so that ``config`` can import them.
"""

from __future__ import annotations

from digiweetjes.scheduling.cadence import Cadence, parse_cadence, wall_clock
from digiweetjes.scheduling.options import ScheduleOptions, schedule_options

__all__ = ["Cadence", "ScheduleOptions", "parse_cadence", "schedule_options", "wall_clock"]
