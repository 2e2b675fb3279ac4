"""Unsubscribe and preferences links for many recipients, at a few microseconds each.

The tokens come from ``tokens.TokenSigner`` (the signing key derived once, issued at the
campaign's freeze time so a retried batch is byte-identical); ``make_token`` uses the same
signer, so the format is defined in one place.
"""

from __future__ import annotations

from datetime import datetime

from digiweetjes.config import Settings
from digiweetjes.links import preferences_url, unsubscribe_url
from digiweetjes.subscribers.tokens import Purpose, TokenSigner


class LinkSigner:
    """Signs unsubscribe and preferences tokens issued at one moment (the campaign's freeze)."""

    def __init__(self, settings: Settings, issued_at: datetime) -> None:
        self._signer = TokenSigner(settings)
        self._issued = int(issued_at.timestamp())
        # The URL prefixes are the same for every recipient: work them out once.
        self._unsubscribe = unsubscribe_url(settings, "")
        self._preferences = preferences_url(settings, "")

    def token(self, purpose: Purpose, subscriber_id: int, email_hash: str) -> str:
        """The same token ``tokens.make_token`` gives for this subscriber and purpose."""
        return self._signer.make(purpose, subscriber_id, email_hash, self._issued)

    def links(self, subscriber_id: int, email_hash: str) -> tuple[str, str]:
        """(unsubscribe URL, preferences URL) of one subscriber."""
        make = self._signer.make
        return (
            self._unsubscribe + make(Purpose.UNSUBSCRIBE, subscriber_id, email_hash,
                                     self._issued),
            self._preferences + make(Purpose.PREFERENCES, subscriber_id, email_hash,
                                     self._issued),
        )
