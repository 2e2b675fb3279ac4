"""The scheduler's way into the one send door: ``send_issue``, confirmed, stoppable."""

from __future__ import annotations

from collections.abc import Callable

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.providers.base import Provider
from digiweetjes.scheduling.due import SendFunction
from digiweetjes.sending import service
from digiweetjes.sending.processes import StopFlag
from digiweetjes.sending.service import SendOutcome


def door_sender(db: Database, settings: Settings, clock: Clock, *,
                provider_factory: Callable[[], Provider],
                stop: StopFlag | None = None) -> SendFunction:
    """A function sending an issue by id through ``send_issue`` with the settings' options;
    the confirmation is always yes (approving and scheduling it was the confirmation)."""

    def send(issue_id: str) -> SendOutcome:
        draft, compiled = service.load_issue(settings, issue_id)
        return service.send_issue(draft, compiled, db=db, settings=settings, clock=clock,
                                  provider_factory=provider_factory, confirm=lambda plan: True,
                                  options=settings.send, stop=stop)

    return send
