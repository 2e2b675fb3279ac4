"""Finding one subscriber: by address, by a link's token, and an address's suppression entry."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.errors import SubscriberError, TokenError
from digiweetjes.models import Subscriber, Suppression
from digiweetjes.subscribers.emails import email_key, normalize_email
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.tokens import Purpose, TokenClaims, read_token


def lookup_email(session: Session, email: str) -> tuple[str, Subscriber | None]:
    """The normalized address and its subscriber (any case), or None; InvalidEmailError."""
    normalized = normalize_email(email)
    key = email_key(normalized)
    found = session.scalars(select(Subscriber).where(Subscriber.email_key == key)).one_or_none()
    return normalized, found


def find_subscriber(session: Session, email: str) -> Subscriber | None:
    """The subscriber with this address (any case), or None; InvalidEmailError if malformed."""
    return lookup_email(session, email)[1]


def get_subscriber(session: Session, email: str) -> Subscriber:
    """The subscriber with this address; SubscriberError naming the address when absent."""
    found = find_subscriber(session, email)
    if found is None:
        raise SubscriberError(f"no subscriber with address {email.strip()!r}")
    return found


def suppression_of(session: Session, settings: Settings, email: str) -> Suppression | None:
    """The suppression entry of an address, or None."""
    key = email_key(normalize_email(email))
    return session.get(Suppression, Hasher(settings).email(key))


def subscriber_for_claims(session: Session, claims: TokenClaims, what: str) -> Subscriber:
    """The subscriber a read token names; TokenError when it no longer belongs to one."""
    subscriber = session.get(Subscriber, claims.subscriber_id)
    if subscriber is None or not claims.matches_email_hash(subscriber.email_hash):
        raise TokenError(f"this {what} link no longer belongs to a subscription "
                         "(the address was erased, expired or changed)", reason="gone")
    return subscriber


def subscriber_for_token(session: Session, clock: Clock, settings: Settings, token: str,
                         purpose: Purpose) -> Subscriber:
    """The subscriber a valid token belongs to (the web pages show their current choices)."""
    claims = read_token(settings, clock, token, purpose)
    return subscriber_for_claims(session, claims, purpose.value)
