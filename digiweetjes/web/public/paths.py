"""The app's own paths to a subscriber's pages, with fresh tokens.

Relative paths, not ``links.*_url`` (absolute, on ``base_url``): a form posts back to the host
that served it (the CSP allows ``form-action 'self'``), wherever the app runs. The one place the
web layer makes a token, so a change of ``make_token``'s signature is a change here only.
"""

from __future__ import annotations

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.models import Subscriber
from digiweetjes.subscribers.tokens import Purpose, make_token

CONFIRM = "/bevestigen"
PREFERENCES = "/voorkeuren"
UNSUBSCRIBE = "/uitschrijven"


def _token(settings: Settings, clock: Clock, purpose: Purpose, subscriber: Subscriber) -> str:
    return make_token(settings, clock, purpose, subscriber.email_hash or "")


def preferences_path(settings: Settings, clock: Clock, subscriber: Subscriber) -> str:
    """``/voorkeuren/<token>`` of this subscriber."""
    return f"{PREFERENCES}/{_token(settings, clock, Purpose.PREFERENCES, subscriber)}"


def unsubscribe_path(settings: Settings, clock: Clock, subscriber: Subscriber) -> str:
    """``/uitschrijven/<token>`` of this subscriber."""
    return f"{UNSUBSCRIBE}/{_token(settings, clock, Purpose.UNSUBSCRIBE, subscriber)}"
