"""Signed, purpose-bound tokens for the confirm, unsubscribe and preferences links.

A token carries the purpose, a prefix of the address's keyed hash and the issue time from the
injected clock: ``["unsubscribe", "<32 hex>", 1796115600]``. It is signed with itsdangerous
(HMAC-SHA256, a key derived from ``DIGIWEETJES_SECRET_KEY``) but not encrypted: anyone can read
the payload, so it holds no database id. Confirm tokens expire after 7 days; unsubscribe and
preferences tokens do not (they travel in every newsletter), but are still bound to one address
and one purpose.

The subscriber is found by the prefix (``lookup.subscriber_for_claims``). The prefix is 128 bits,
not 64, because a link must never reach the wrong person: at 64 bits that is merely improbable
(the link of an erased or changed address meets a later address with the same prefix, about one
chance in 2**64 for each later address); at 128 bits it is as likely as guessing a 128-bit key.
The whole 256-bit hash would make every token another 43 characters longer for nothing
measurable. Tokens made before this format, ``[purpose, subscriber id, "<16 hex>", issued]``,
are still read: they are in mails already sent, and two of the three kinds never expire.
"""

from __future__ import annotations

import hashlib
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.errors import TokenError
from digiweetjes.links import preferences_url, unsubscribe_url
from digiweetjes.subscribers.hashing import derive_key

CONFIRM_LIFETIME = timedelta(days=7)
#: Hex characters of the address hash in a token (128 bits); the hash itself has 64.
HASH_PREFIX = 32
#: The prefix in tokens of the first format, which also carried the subscriber id.
OLD_HASH_PREFIX = 16
_HEX = "0123456789abcdef"


class Purpose(StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"


_LIFETIMES: dict[Purpose, timedelta | None] = {
    Purpose.CONFIRM: CONFIRM_LIFETIME,
    Purpose.UNSUBSCRIBE: None,
    Purpose.PREFERENCES: None,
}
#: Each link as a person names it (part of Dutch messages).
LINK_NAMES = {
    Purpose.CONFIRM: "bevestigingslink",
    Purpose.UNSUBSCRIBE: "uitschrijflink",
    Purpose.PREFERENCES: "voorkeurenlink",
}


def is_hash_prefix(text: str, length: int = HASH_PREFIX) -> bool:
    """True for ``length`` lowercase hex characters: the only prefixes a lookup may use (an
    empty or short one would match other people's addresses)."""
    return len(text) == length and not text.strip(_HEX)


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: the address hash prefix, and in old tokens the row id too."""

    purpose: Purpose
    email_hash_prefix: str
    issued_at: datetime
    subscriber_id: int | None = None

    def matches_email_hash(self, email_hash: str | None) -> bool:
        return (email_hash is not None and bool(self.email_hash_prefix)
                and email_hash.startswith(self.email_hash_prefix))


def _serializer(settings: Settings) -> URLSafeSerializer:
    return _serializer_for(derive_key(settings, "tokens"))


@lru_cache(maxsize=8)
def _serializer_for(key: bytes) -> URLSafeSerializer:
    # Built once a key: every link a page or a one-click reads is checked with it.
    return URLSafeSerializer(key, salt="digiweetjes.link",
                             signer_kwargs={"digest_method": hashlib.sha256})


class TokenSigner:
    """Makes tokens with the signing key derived once: a few microseconds a token.

    The one definition of the token format: ``URLSafeSerializer.dumps`` of the compact JSON
    payload, which ``read_token`` reads. Unlike ``dumps`` it never tries zlib (``dumps`` keeps
    the compressed form when it saves two bytes, as it does for a few payloads with repetitive
    characters; ``read_token`` accepts either form), and it signs with HMAC-SHA256 from
    pre-keyed inner and outer hash states instead of re-keying each call.
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

    def make(self, purpose: Purpose, email_hash: str, issued_at: datetime | int) -> str:
        """The signed token for one address and purpose, issued at ``issued_at``."""
        issued = issued_at if isinstance(issued_at, int) else int(issued_at.timestamp())
        prefix = email_hash[:HASH_PREFIX]
        if not is_hash_prefix(prefix):
            # A link that names no address (or a short, matching-many one) must never leave.
            raise ValueError("a token needs the 64-hex keyed hash of an address")
        # Hex needs no JSON escaping: this is the payload json.dumps would write, compact.
        payload = f'["{purpose.value}","{prefix}",{issued}]'
        # itsdangerous' base64_encode: URL-safe alphabet, padding stripped.
        value = urlsafe_b64encode(payload.encode()).rstrip(b"=")
        inner = self._inner.copy()
        inner.update(value)
        outer = self._outer.copy()
        outer.update(inner.digest())
        signature = urlsafe_b64encode(outer.digest()).rstrip(b"=")
        return (value + self._sep + signature).decode()


def make_token(settings: Settings, clock: Clock, purpose: Purpose, email_hash: str) -> str:
    """A signed token for one address (its keyed hash) and one purpose."""
    return TokenSigner(settings).make(purpose, email_hash, clock.now())


def _claims(payload: object) -> TokenClaims:
    """The claims of a decoded payload of either format; ValueError or TypeError if malformed."""
    if not isinstance(payload, list):
        raise TypeError("the payload is not a list")
    subscriber_id = None
    if len(payload) == 4:  # the first format, with the row id
        raw_purpose, raw_id, prefix, issued = payload
        subscriber_id, width = int(raw_id), OLD_HASH_PREFIX
    else:
        raw_purpose, prefix, issued = payload
        width = HASH_PREFIX
    if not isinstance(prefix, str) or not is_hash_prefix(prefix, width):
        raise ValueError("the address hash prefix is malformed")
    return TokenClaims(Purpose(raw_purpose), prefix, datetime.fromtimestamp(int(issued), UTC),
                       subscriber_id)


def read_token(settings: Settings, clock: Clock, token: str, purpose: Purpose) -> TokenClaims:
    """The claims of a valid token for ``purpose``; TokenError when forged, expired or misused."""
    try:
        claims = _claims(_serializer(settings).loads(token))
    except BadSignature as exc:
        raise TokenError(
            f"ongeldige {LINK_NAMES[purpose]}: de handtekening klopt niet (de link werd gewijzigd, "
            "afgebroken of niet door deze dienst gemaakt)"
        ) from exc
    except (ValueError, TypeError, OverflowError) as exc:
        raise TokenError(f"ongeldige {LINK_NAMES[purpose]}: de inhoud is misvormd") from exc
    if claims.purpose is not purpose:
        raise TokenError(
            f"verkeerde link: dit is een {LINK_NAMES[claims.purpose]}, geen {LINK_NAMES[purpose]}"
        )
    lifetime = _LIFETIMES[purpose]
    if lifetime is not None and clock.now() > claims.issued_at + lifetime:
        raise TokenError(
            f"vervallen {LINK_NAMES[purpose]}: gemaakt op {claims.issued_at:%d/%m/%Y %H:%M} UTC, "
            f"{lifetime.days} dagen geldig; schrijf je opnieuw in voor een nieuwe link",
            reason="expired")
    return claims


def subscriber_links(settings: Settings, clock: Clock, email_hash: str) -> dict[str, str]:
    """Unsubscribe and preferences URLs of one address, with fresh tokens."""
    return {
        "unsubscribe_url": unsubscribe_url(
            settings, make_token(settings, clock, Purpose.UNSUBSCRIBE, email_hash)),
        "preferences_url": preferences_url(
            settings, make_token(settings, clock, Purpose.PREFERENCES, email_hash)),
    }
