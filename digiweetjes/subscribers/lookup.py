"""Finding one subscriber: by address, by a link's token, and an address's suppression entry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Executor
from digiweetjes.errors import SubscriberError, TokenError
from digiweetjes.models import ConsentEvent, ConsentEventType, Subscriber, Suppression
from digiweetjes.subscribers.driver import DriverSQL, run, utc
from digiweetjes.subscribers.emails import email_key, normalize_email
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.tokens import LINK_NAMES, Purpose, TokenClaims, read_token


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
        raise SubscriberError(f"geen abonnee met het adres {email.strip()!r}")
    return found


def subscriber_by_id(session: Session, subscriber_id: int) -> Subscriber | None:
    """The subscriber with this row id (erased tombstones included), or None (the admin pages
    name a person by id: an address in a URL would end up in logs and browser history)."""
    return session.get(Subscriber, subscriber_id)


def suppression_of(session: Session, settings: Settings, email: str) -> Suppression | None:
    """The suppression entry of an address, or None."""
    key = email_key(normalize_email(email))
    return session.get(Suppression, Hasher(settings).email(key))


def by_hash_prefix(prefix: str) -> Select[tuple[Subscriber]]:
    """The subscribers whose address hash starts with ``prefix`` (lowercase hex), at most two.

    A range on the indexed column rather than LIKE: ``prefix <= hash < prefix + "g"`` holds for
    exactly the lowercase-hex hashes that start with the prefix in any collation (every hex
    digit sorts below "g"), and both SQLite and PostgreSQL search ``ix_subscribers_email_hash``
    for it, where LIKE needs a "C" collation or a pattern operator class on PostgreSQL.
    """
    return (select(Subscriber)
            .where(Subscriber.email_hash >= prefix, Subscriber.email_hash < prefix + "g")
            .limit(2))


def _erased_since(session: Executor, email_hash: str, issued_at: datetime) -> bool:
    """True when the address was erased at or after ``issued_at`` (the ledger keeps the hash)."""
    return session.scalar(
        select(ConsentEvent.id).where(ConsentEvent.email_hash == email_hash,
                                      ConsentEvent.event == ConsentEventType.ERASED,
                                      ConsentEvent.occurred_at >= issued_at).limit(1)
    ) is not None


def _may_be_erased_since(session: Executor, email_hash: str | None, created_at: datetime,
                         issued_at: datetime) -> bool:
    """``_erased_since``, asked only when the answer can be yes.

    A row created before the token was issued cannot be a re-subscription after an erasure at
    or after that moment: erasure blanks the hash of the row that holds the address (``erase``),
    a row's address never changes otherwise, and rows are created at the clock's now (the form,
    an admin's add, an import). So a row older than the token (``issued_at`` is rounded down to
    the second, which errs towards asking) skips the ledger query: the one-click path's case.
    """
    if created_at < issued_at:
        return False
    return _erased_since(session, email_hash or "", issued_at)


def _gone(what: str) -> TokenError:
    return TokenError(f"deze {what} hoort niet meer bij een inschrijving (het adres werd "
                      "gewist, is vervallen of veranderd)", reason="gone")


def subscriber_for_claims(session: Session, claims: TokenClaims, what: str) -> Subscriber:
    """The subscriber a read token names; TokenError when it no longer belongs to one.

    New tokens name an address by its hash prefix; old ones a row id, checked against the
    prefix they also carry. Never a guess: two matches (a 128-bit coincidence, or a bug) name
    nobody, and a link issued before its address was erased stays dead even when the same
    address subscribes again, as the row-bound old links do.
    """
    if claims.subscriber_id is not None:
        subscriber = session.get(Subscriber, claims.subscriber_id)
    else:
        found = session.scalars(by_hash_prefix(claims.email_hash_prefix)).all()
        subscriber = found[0] if len(found) == 1 else None
        if subscriber is not None and _may_be_erased_since(
                session, subscriber.email_hash, subscriber.created_at, claims.issued_at):
            subscriber = None
    if subscriber is None or not claims.matches_email_hash(subscriber.email_hash):
        raise _gone(what)
    return subscriber


class ClaimedRow(NamedTuple):
    """The columns of a token's subscriber that a quick change needs (no ORM object)."""

    id: int
    email: str | None
    email_hash: str | None
    status: str


_CLAIMED_BY_ID = select(Subscriber.id, Subscriber.email, Subscriber.email_hash,
                       Subscriber.status, Subscriber.created_at).where(
    Subscriber.id == bindparam("sid"))
#: The range of ``by_hash_prefix``, at the driver's level (``driver``): the one-click path.
_CLAIMED_BY_PREFIX = DriverSQL(
    "SELECT id, email, email_hash, status, created_at FROM subscribers "
    "WHERE email_hash >= :low AND email_hash < :high LIMIT 2")


def claimed_row(session: Executor, claims: TokenClaims, what: str) -> ClaimedRow:
    """``subscriber_for_claims`` as columns, with the same rules: for the one-click
    unsubscribe, where building an ORM object costs more than the SQL it saves."""
    if claims.subscriber_id is not None:  # an old link: rare, so the plain way
        rows: Sequence[Any] = session.execute(_CLAIMED_BY_ID,
                                              {"sid": claims.subscriber_id}).all()
    else:
        prefix = claims.email_hash_prefix
        _count, rows = run(session, _CLAIMED_BY_PREFIX, {"low": prefix, "high": prefix + "g"})
    if len(rows) != 1:
        raise _gone(what)
    sid, email, email_hash, status, created_at = rows[0]
    if not claims.matches_email_hash(email_hash) or (
            claims.subscriber_id is None
            and _may_be_erased_since(session, email_hash, utc(created_at), claims.issued_at)):
        raise _gone(what)
    return ClaimedRow(sid, email, email_hash, status)


def subscriber_for_token(session: Session, clock: Clock, settings: Settings, token: str,
                         purpose: Purpose) -> Subscriber:
    """The subscriber a valid token belongs to (the web pages show their current choices)."""
    claims = read_token(settings, clock, token, purpose)
    return subscriber_for_claims(session, claims, LINK_NAMES[purpose])
