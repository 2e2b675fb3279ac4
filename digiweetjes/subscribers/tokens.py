"""Signed, purpose-bound tokens for the confirm, unsubscribe and preferences links.

A token carries the purpose, the subscriber id, a short prefix of the address's keyed hash (so a
token dies with an erasure or a changed address) and the issue time from the injected clock. It is
signed with itsdangerous (HMAC-SHA256, a key derived from ``DIGIWEETJES_SECRET_KEY``). Confirm
tokens expire after 7 days; unsubscribe and preferences tokens do not (they travel in every
newsletter), but are still bound to one subscriber and one purpose.
"""

from __future__ import annotations

import hashlib
import json
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeSerializer

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.errors import TokenError
from digiweetjes.links import preferences_url, unsubscribe_url
from digiweetjes.subscribers.hashing import derive_key

CONFIRM_LIFETIME = timedelta(days=7)
_HASH_PREFIX = 16


class Purpose(StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"


_LIFETIMES: dict[Purpose, timedelta | None] = {
    Purpose.CONFIRM: CONFIRM_LIFETIME,
    Purpose.UNSUBSCRIBE: None,
    Purpose.PREFERENCES: None,
}
_DUTCH = {
    Purpose.CONFIRM: "bevestigingslink",
    Purpose.UNSUBSCRIBE: "uitschrijflink",
    Purpose.PREFERENCES: "voorkeurenlink",
}


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says."""

    purpose: Purpose
    subscriber_id: int
    email_hash_prefix: str
    issued_at: datetime

    def matches_email_hash(self, email_hash: str | None) -> bool:
        return email_hash is not None and email_hash[:_HASH_PREFIX] == self.email_hash_prefix


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(
        derive_key(settings, "tokens"),
        salt="digiweetjes.link",
        signer_kwargs={"digest_method": hashlib.sha256},
    )


class TokenSigner:
    """Makes tokens with the signing key derived once: a few microseconds a token.

    The one definition of the token format: ``URLSafeSerializer.dumps`` of the compact JSON
    payload, which ``read_token`` reads. Unlike ``dumps`` it never tries zlib (``dumps`` keeps
    the compressed form when it saves two bytes, as it does for a few payloads with repetitive
    digits; ``read_token`` accepts either form, so tokens made before stay valid), and it signs
    with HMAC-SHA256 from pre-keyed inner and outer hash states instead of re-keying each call.
    """

    def __init__(self, settings: Settings) -> None:
        signer = _serializer(settings).make_signer()
        if signer.digest_method is not hashlib.sha256:
            raise RuntimeError("the token signer is no longer HMAC-SHA256: update TokenSigner")
        key = signer.derive_key()
        block = hashlib.sha256().block_size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\0")
        # HMAC (RFC 2104) with its two keyed states computed once; each token copies them.
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
        self._sep = signer.sep

    def make(self, purpose: Purpose, subscriber_id: int, email_hash: str,
             issued_at: datetime | int) -> str:
        """The signed token for one subscriber and purpose, issued at ``issued_at``."""
        issued = issued_at if isinstance(issued_at, int) else int(issued_at.timestamp())
        prefix = email_hash[:_HASH_PREFIX]
        if prefix.isascii() and prefix.isalnum():
            payload = f'["{purpose.value}",{int(subscriber_id)},"{prefix}",{issued}]'
        else:  # anything JSON would escape: let json write it, exactly as dumps would
            payload = json.dumps([purpose.value, int(subscriber_id), prefix, issued],
                                 ensure_ascii=False, separators=(",", ":"))
        # itsdangerous' base64_encode: URL-safe alphabet, padding stripped.
        value = urlsafe_b64encode(payload.encode()).rstrip(b"=")
        inner = self._inner.copy()
        inner.update(value)
        outer = self._outer.copy()
        outer.update(inner.digest())
        signature = urlsafe_b64encode(outer.digest()).rstrip(b"=")
        return (value + self._sep + signature).decode()


def make_token(settings: Settings, clock: Clock, purpose: Purpose, subscriber_id: int,
               email_hash: str) -> str:
    """A signed token for one subscriber and one purpose."""
    return TokenSigner(settings).make(purpose, subscriber_id, email_hash, clock.now())


def read_token(settings: Settings, clock: Clock, token: str, purpose: Purpose) -> TokenClaims:
    """The claims of a valid token for ``purpose``; TokenError when forged, expired or misused."""
    try:
        payload = _serializer(settings).loads(token)
        raw_purpose, subscriber_id, prefix, issued = payload
        claims = TokenClaims(Purpose(raw_purpose), int(subscriber_id), str(prefix),
                             datetime.fromtimestamp(int(issued), UTC))
    except BadSignature as exc:
        raise TokenError(
            f"invalid {purpose.value} token: the signature does not match "
            "(the link was altered, truncated or not made by this service)"
        ) from exc
    except (ValueError, TypeError) as exc:
        raise TokenError(f"invalid {purpose.value} token: malformed payload") from exc
    if claims.purpose is not purpose:
        raise TokenError(
            f"wrong token purpose: this is a {claims.purpose.value} token "
            f"({_DUTCH[claims.purpose]}), not a {purpose.value} token"
        )
    lifetime = _LIFETIMES[purpose]
    if lifetime is not None and clock.now() > claims.issued_at + lifetime:
        raise TokenError(
            f"expired {purpose.value} token: issued {claims.issued_at:%Y-%m-%d %H:%M} UTC, "
            f"valid for {lifetime.days} days; subscribe again to get a new link",
            reason="expired")
    return claims


def subscriber_links(settings: Settings, clock: Clock, subscriber_id: int,
                     email_hash: str) -> dict[str, str]:
    """Unsubscribe and preferences URLs of one subscriber, with fresh tokens."""
    return {
        "unsubscribe_url": unsubscribe_url(
            settings, make_token(settings, clock, Purpose.UNSUBSCRIBE, subscriber_id, email_hash)),
        "preferences_url": preferences_url(
            settings, make_token(settings, clock, Purpose.PREFERENCES, subscriber_id, email_hash)),
    }
