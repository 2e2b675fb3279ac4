"""Keyed hashes of personal data (email addresses, IP addresses) for the ledger and suppression.

HMAC-SHA256 with keys derived from the secret key: a leaked database alone cannot be reversed by
hashing a list of known addresses. Rotating the secret key changes every hash, so it must stay
stable for the lifetime of the list.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from digiweetjes.config import Settings


def derive_key(settings: Settings, purpose: str) -> bytes:
    """A sub-key of the secret key for one purpose, so one use cannot be replayed in another."""
    return _derived(settings.require_secret_key().reveal(), purpose)


@lru_cache(maxsize=64)
def _derived(secret: str, purpose: str) -> bytes:
    # Asked on every request (links, hashes); the secret is in this process's memory anyway.
    return hmac.new(secret.encode("utf-8"), f"digiweetjes/{purpose}".encode(),
                    hashlib.sha256).digest()


class Hasher:
    """Keyed hashes of email and IP addresses; build once per operation, call many times."""

    __slots__ = ("_email_key", "_ip_key")

    def __init__(self, settings: Settings) -> None:
        self._email_key = derive_key(settings, "email-hash")
        self._ip_key = derive_key(settings, "ip-hash")

    def email(self, email_key: str) -> str:
        """The hex hash of an address in its case-folded key form (see ``emails.email_key``)."""
        return hmac.new(self._email_key, email_key.encode("utf-8"), hashlib.sha256).hexdigest()

    def ip(self, ip: str | None) -> str | None:
        """The hex hash of an IP address, or None; the raw address is never stored."""
        if not ip:
            return None
        return hmac.new(self._ip_key, ip.strip().encode("utf-8"), hashlib.sha256).hexdigest()
