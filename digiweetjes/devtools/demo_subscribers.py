"""Clearly fictional demo subscribers, spread over the ten municipalities of the region."""

from __future__ import annotations

from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.errors import ProviderError
from digiweetjes.providers.base import Batch, Capabilities, RecipientResult
from digiweetjes.subscribers import add_subscriber, find_subscriber
from digiweetjes.subscribers.places import region
from digiweetjes.subscribers.topics import TOPICS

DEMO_COUNT = 40
DEMO_DOMAIN = "example.org"  # reserved for documentation (RFC 2606): never a real mailbox


class _NoMail:
    """Demo people are added with consent, so nothing is mailed; fail loudly if it were."""

    name = "none"
    capabilities = Capabilities(server_side_personalization=False, max_batch=1)

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        raise ProviderError("the demo seed does not send mail")

    def close(self) -> None:
        """Nothing to release."""


def demo_address(number: int) -> str:
    return f"demo.deelnemer{number:02d}@{DEMO_DOMAIN}"


def seed_demo_subscribers(session: Session, settings: Settings, clock: Clock, *,
                          count: int = DEMO_COUNT) -> int:
    """Add the demo subscribers that are not there yet (safe to repeat); returns how many."""
    municipalities = region(settings).municipalities
    topic_ids = list(TOPICS)
    added = 0
    for number in range(1, count + 1):
        email = demo_address(number)
        if find_subscriber(session, email) is not None:
            continue
        # Every fifth person picks no topics (= all); the others one or two.
        topics = [] if number % 5 == 0 else sorted({topic_ids[number % len(topic_ids)],
                                                    topic_ids[(number * 3) % len(topic_ids)]})
        add_subscriber(
            session, _NoMail(), clock, settings, email=email,
            name=f"Demo Deelnemer {number}",
            # The last few have no municipality: the list allows that too.
            municipality=None if number > count - 3 else
            municipalities[number % len(municipalities)],
            topics=topics, consent_source="demo")
        added += 1
    return added
