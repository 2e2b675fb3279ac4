"""The public URLs in emails, built in one place (confirmation mails, newsletters, headers)."""

from __future__ import annotations

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.tokens import Purpose, make_token


def confirm_url(settings: Settings, token: str) -> str:
    """The page that confirms a subscription (double opt-in)."""
    return f"{settings.base_url}/bevestigen/{token}"


def preferences_url(settings: Settings, token: str) -> str:
    """The page where a subscriber changes name, municipality and topics."""
    return f"{settings.base_url}/voorkeuren/{token}"


def unsubscribe_url(settings: Settings, token: str) -> str:
    """The one-click unsubscribe page (also the List-Unsubscribe https target)."""
    return f"{settings.base_url}/uitschrijven/{token}"


def subscriber_links(settings: Settings, clock: Clock, subscriber_id: int,
                     email_hash: str) -> dict[str, str]:
    """Unsubscribe and preferences URLs of one subscriber, with fresh tokens."""
    return {
        "unsubscribe_url": unsubscribe_url(
            settings, make_token(settings, clock, Purpose.UNSUBSCRIBE, subscriber_id, email_hash)),
        "preferences_url": preferences_url(
            settings, make_token(settings, clock, Purpose.PREFERENCES, subscriber_id, email_hash)),
    }
