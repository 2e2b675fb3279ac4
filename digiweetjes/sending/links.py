"""Unsubscribe and preferences links for many recipients, at a few microseconds each.

``digiweetjes.links.subscriber_links`` signs through ``URLSafeSerializer.dumps``, which derives the
signing key and tries zlib on every call (about 300 µs a token, 60 s for 100,000 recipients).
This builds the same tokens with the key derived once and without compression (a payload this
short never compresses, and ``read_token`` accepts either form); ``tests/test_sending_links.py``
holds it to ``make_token`` byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode
from datetime import datetime

from digiweetjes import tokens
from digiweetjes.config import Settings
from digiweetjes.links import preferences_url, unsubscribe_url


class LinkSigner:
    """Signs unsubscribe and preferences tokens issued at one moment (the campaign's freeze)."""

    def __init__(self, settings: Settings, issued_at: datetime) -> None:
        signer = tokens._serializer(settings).make_signer()
        if signer.digest_method is not hashlib.sha256:
            raise RuntimeError("the token signer is no longer HMAC-SHA256: update LinkSigner")
        self._key = signer.derive_key()
        self._sep = signer.sep
        self._issued = int(issued_at.timestamp())
        self._settings = settings

    def token(self, purpose: tokens.Purpose, subscriber_id: int, email_hash: str) -> str:
        """The same token ``tokens.make_token`` gives for this subscriber and purpose."""
        payload = (f'["{purpose.value}",{int(subscriber_id)},'
                   f'"{email_hash[:tokens._HASH_PREFIX]}",{self._issued}]')
        # itsdangerous' base64_encode: URL-safe alphabet, padding stripped.
        value = urlsafe_b64encode(payload.encode()).rstrip(b"=")
        signature = urlsafe_b64encode(hmac.digest(self._key, value, "sha256")).rstrip(b"=")
        return (value + self._sep + signature).decode()

    def links(self, subscriber_id: int, email_hash: str) -> tuple[str, str]:
        """(unsubscribe URL, preferences URL) of one subscriber."""
        return (
            unsubscribe_url(self._settings,
                            self.token(tokens.Purpose.UNSUBSCRIBE, subscriber_id, email_hash)),
            preferences_url(self._settings,
                            self.token(tokens.Purpose.PREFERENCES, subscriber_id, email_hash)),
        )
