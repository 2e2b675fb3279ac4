"""Unsubscribe and preferences links for many recipients, at a few microseconds each.

The tokens come from ``tokens.TokenSigner`` (the signing key derived once, issued at the
campaign's freeze time so a retried batch is byte-identical); ``make_token`` uses the same
signer, so the format is defined in one place.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from digiweetjes.config import Settings
from digiweetjes.links import preferences_url, unsubscribe_url
from digiweetjes.subscribers.hashing import derive_key
from digiweetjes.subscribers.tokens import Purpose, TokenSigner


class LinkSigner:
    """Signs unsubscribe and preferences tokens issued at one moment (the campaign's freeze)."""

    def __init__(self, settings: Settings, issued_at: datetime) -> None:
        self._signer = TokenSigner(settings)
        self._issued = int(issued_at.timestamp())
        # The URL prefixes are the same for every recipient: work them out once.
        self._unsubscribe = unsubscribe_url(settings, "")
        self._preferences = preferences_url(settings, "")

    def token(self, purpose: Purpose, email_hash: str) -> str:
        """The same token ``tokens.make_token`` gives for this address and purpose."""
        return self._signer.make(purpose, email_hash, self._issued)

    def links(self, email_hash: str) -> tuple[str, str]:
        """(unsubscribe URL, preferences URL) of one address, by its keyed hash."""
        make = self._signer.make
        return (
            self._unsubscribe + make(Purpose.UNSUBSCRIBE, email_hash, self._issued),
            self._preferences + make(Purpose.PREFERENCES, email_hash, self._issued),
        )


def unowned_email_hash(settings: Settings, email_key: str) -> str:
    """A hash for a test mail's links: per address, shaped like a subscriber's, but keyed apart
    from ``Hasher.email``, so the links name no subscription, not even the tester's own."""
    key = derive_key(settings, "test-mail-links")
    return hmac.new(key, email_key.encode("utf-8"), hashlib.sha256).hexdigest()
