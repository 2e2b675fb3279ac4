"""The sign-up form's request: store it, mail the person, and take it back if the mail fails.

Two doors onto the same steps (``request_subscription``, ``send_signup_mail``,
``withdraw_subscription``):

- ``subscribe(session, provider, ...)`` runs them inside the caller's transaction: when the
  provider refuses the mail, the ``ProviderError`` propagates and the caller's rollback leaves
  nothing (the CLI, the tests);
- ``sign_up(db, provider, ...)`` (the web form) stores the request in one short transaction,
  sends after the commit, and on a failed send withdraws exactly what it stored in a second
  one. A provider call takes 100 ms or more; inside the transaction it held SQLite's single
  write lock that long, so every other sign-up and unsubscribe waited behind it. ``db`` runs
  each transaction (``db.WriteTransactions``): the ``Database``, or the web app's write queue,
  which batches them with other requests' on SQLite (``web.writes``).

The consent ledger is append-only (a database trigger), so ``sign_up`` writes the request's
ledger line only once its mail went out, with the ``confirmation_sent_at`` mark, in a second
short transaction (``record_mailed_request``); a failed mail withdraws the subscriber row it
created and its throttle row (``withdraw_subscription``), leaving nothing. When the process
dies between the commit and the send, a ``pending`` subscriber without a ledger line or a
``confirmation_sent_at`` remains, with the hour's throttle row: ``subscribers
send-confirmations`` mails it (it picks exactly those), the person's next try after the hour
does too, and unconfirmed rows are purged after ``PENDING_RETENTION_DAYS``. Two sign-ups of one
address at once: the second finds the first's row (pending, throttled) and mails nothing; if
the first's mail fails, its row goes and the second's ledger line stays (its subscriber id
cleared by the foreign key).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Executor, WriteTransactions
from digiweetjes.models import (
    ConsentEventType,
    MailThrottle,
    Source,
    Subscriber,
    SubscriberStatus,
    TopicList,
)
from digiweetjes.providers.base import Provider
from digiweetjes.subscribers.cleaning import check_language, clean_name
from digiweetjes.subscribers.consent import consent_row, insert_consent
from digiweetjes.subscribers.driver import DriverSQL, run, utc
from digiweetjes.subscribers.emails import email_key, normalize_email
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.optin import (
    MAIL_THROTTLE,
    already_subscribed_mail,
    confirmation_mail,
)
from digiweetjes.subscribers.places import municipality_and_subregion
from digiweetjes.subscribers.topics import parse_topics
from digiweetjes.subscribers.transactional import MailKind, ServiceMail, send_service_mail

log = logging.getLogger("digiweetjes.subscribers")


@dataclass(frozen=True)
class SignupRequest:
    """A stored sign-up whose mail is still to be sent, and what it stored (to withdraw it)."""

    kind: MailKind
    mail: ServiceMail
    subscriber_id: int
    email_hash: str
    at: datetime
    created: bool                                   # this request inserted the subscriber
    consent: dict[str, object] | None               # its ledger line, written once mailed
    throttle_before: tuple[str, datetime] | None    # None: this request inserted the row


_THROTTLE_OF = DriverSQL("SELECT kind, sent_at FROM mail_throttle WHERE email_hash = :hash")
_THROTTLE_NEW = DriverSQL(
    "INSERT INTO mail_throttle (email_hash, kind, sent_at) VALUES (:hash, :kind, :now)")
_THROTTLE_AGAIN = DriverSQL(
    "UPDATE mail_throttle SET kind = :kind, sent_at = :now WHERE email_hash = :hash")


def _take_throttle(session: Executor, email_hash: str, kind: MailKind,
                   now: datetime) -> tuple[bool, tuple[str, datetime] | None]:
    """(allowed, the row's kind and time before) — as ``optin._throttle_allows``, at the
    driver's level (``driver``): a sign-up is the web's other busy write."""
    params = {"hash": email_hash, "kind": kind, "now": now}
    _count, rows = run(session, _THROTTLE_OF, params)
    if not rows:
        run(session, _THROTTLE_NEW, params)
        return True, None
    before = (rows[0][0], utc(rows[0][1]))
    if now - before[1] < MAIL_THROTTLE:
        return False, None
    run(session, _THROTTLE_AGAIN, params)
    return True, before


_KNOWN = DriverSQL("SELECT id, email, email_hash, name, status FROM subscribers "
                   "WHERE email_key = :email_key")
#: A new address's row; a concurrent insert of the same address wins, and this one stops.
_INSERT_PENDING = DriverSQL(
    "INSERT INTO subscribers (email, email_key, email_hash, name, municipality, subregion, "
    "topics, language, status, source, created_at, updated_at) VALUES (:email, :email_key, "
    ":email_hash, :name, :municipality, :subregion, :topics, :language, :status, :source, "
    ":created_at, :updated_at) ON CONFLICT (email_key) DO NOTHING RETURNING id")
_TOPICS = TopicList()


@dataclass
class Person:
    """The subscriber a sign-up is about: what its mail and ledger line need. A plain object,
    not an ORM ``Subscriber``: building one cost more than inserting the row."""

    id: int
    email: str
    email_hash: str
    name: str | None
    status: str


def _known_or_inserted(session: Executor, row: dict[str, object]) -> tuple[Person | None, bool]:
    """The address's subscriber and whether this request inserted it (``row``, the new
    pending subscriber's columns); (None, False) when another request inserted it between."""
    _count, rows = run(session, _KNOWN, {"email_key": row["email_key"]})
    if rows:
        return Person(*rows[0]), False
    _count, rows = run(session, _INSERT_PENDING, {
        **row, "topics": _TOPICS.process_bind_param(row["topics"], None)})  # type: ignore[arg-type]
    if not rows:
        return None, False
    return Person(rows[0][0], str(row["email"]), str(row["email_hash"]),
                  row["name"], str(row["status"])), True  # type: ignore[arg-type]


def request_subscription(session: Executor, clock: Clock, settings: Settings, *, email: str,
                         name: str | None = None, municipality: str | None = None,
                         topics: Sequence[str] | str | None = None, language: str = "nl-BE",
                         ip: str | None = None,
                         source: Source = Source.FORM) -> SignupRequest | None:
    """Store a subscription request: a new address becomes ``pending``; a known one is left
    as it is (anyone can type any address), with a ledger line unless it is ``active``.

    Returns the mail now due (a confirmation, or "je bent al ingeschreven"), or None when
    none is (the hour's throttle, or the same address inserted concurrently: that request
    mails the person). Invalid input (address, municipality, topic) raises SubscriberError.
    """
    hasher = Hasher(settings)
    now = clock.now()
    normalized = normalize_email(email)
    name = clean_name(name)
    municipality, subregion = municipality_and_subregion(settings, municipality)
    topic_ids = parse_topics(topics)
    language = check_language(language)
    key = email_key(normalized)
    found, created = _known_or_inserted(session, {
        "email": normalized, "email_key": key, "email_hash": hasher.email(key), "name": name,
        "municipality": municipality, "subregion": subregion, "topics": topic_ids,
        "language": language, "status": SubscriberStatus.PENDING, "source": source,
        "created_at": now, "updated_at": now})
    if found is None:
        return None
    subscriber = found
    email_hash = subscriber.email_hash
    kind = (MailKind.ALREADY_SUBSCRIBED if subscriber.status == SubscriberStatus.ACTIVE
            else MailKind.CONFIRM)
    consent = None
    if kind is MailKind.CONFIRM:  # pending, or opted out and asking to come back
        consent = consent_row(settings, hasher, now, ConsentEventType.SUBSCRIBED, source,
                              subscriber_id=subscriber.id, email=subscriber.email,
                              email_hash=email_hash, ip=ip, notice=True)
    allowed, throttle_before = _take_throttle(session, email_hash, kind, now)
    if not allowed:  # no mail to wait for: the ledger line now
        if consent is not None:
            insert_consent(session, consent)
        return None
    mail = (confirmation_mail(settings, clock, subscriber) if kind is MailKind.CONFIRM
            else already_subscribed_mail(settings, clock, subscriber))
    return SignupRequest(kind, mail, subscriber.id, email_hash, now, created, consent,
                         throttle_before)


def send_signup_mail(provider: Provider, settings: Settings, request: SignupRequest) -> None:
    """Send the request's mail; ProviderError (in Dutch) when the provider did not take it."""
    send_service_mail(provider, settings, request.kind, request.mail)


def record_mailed_request(session: Executor, request: SignupRequest) -> None:
    """After the mail went out: the request's ledger line, and when a confirmation was sent."""
    if request.consent is not None:
        insert_consent(session, request.consent)
    if request.kind is MailKind.CONFIRM:
        run(session, _CONFIRMATION_SENT, {"at": request.at, "sid": request.subscriber_id})


_CONFIRMATION_SENT = DriverSQL(
    "UPDATE subscribers SET confirmation_sent_at = :at WHERE id = :sid")


def withdraw_subscription(session: Executor, request: SignupRequest) -> None:
    """Take back what ``request_subscription`` stored, after its mail failed: the subscriber
    it created (still pending, never mailed) and its throttle row (or the row's previous
    time). What changed since (another request's throttle) is left alone."""
    throttle = MailThrottle.__table__
    mine = (throttle.c.email_hash == request.email_hash, throttle.c.kind == request.kind,
            throttle.c.sent_at == request.at)
    if request.throttle_before is None:
        session.execute(delete(throttle).where(*mine))
    else:
        kind, sent_at = request.throttle_before
        session.execute(update(throttle).where(*mine).values(kind=kind, sent_at=sent_at))
    if request.created:
        subscribers = Subscriber.__table__
        session.execute(delete(subscribers).where(
            subscribers.c.id == request.subscriber_id,
            subscribers.c.status == SubscriberStatus.PENDING,
            subscribers.c.confirmation_sent_at.is_(None)))


def subscribe(session: Session, provider: Provider, clock: Clock, settings: Settings, *,
              email: str, name: str | None = None, municipality: str | None = None,
              topics: Sequence[str] | str | None = None, language: str = "nl-BE",
              ip: str | None = None, source: Source = Source.FORM) -> None:
    """A subscription request (the form): a new address becomes ``pending`` with a confirmation.

    The mail is sent inside the caller's transaction: a ``ProviderError`` propagates, and the
    caller's rollback leaves nothing. Returns nothing, whatever the address's status, so the
    caller cannot learn whether it is on the list. Invalid input raises SubscriberError.
    """
    request = request_subscription(session, clock, settings, email=email, name=name,
                                   municipality=municipality, topics=topics,
                                   language=language, ip=ip, source=source)
    if request is not None:
        send_signup_mail(provider, settings, request)
        record_mailed_request(session, request)
        session.flush()


def sign_up(db: WriteTransactions, provider: Provider, clock: Clock, settings: Settings, *,
            email: str, name: str | None = None, municipality: str | None = None,
            topics: Sequence[str] | str | None = None, language: str = "nl-BE",
            ip: str | None = None, source: Source = Source.FORM) -> None:
    """``subscribe`` with the mail sent after the commit (the module says why and what it
    costs); a failed send is withdrawn and its error raised, so nothing of it stays."""
    request = db.write(lambda connection: request_subscription(
        connection, clock, settings, email=email, name=name, municipality=municipality,
        topics=topics, language=language, ip=ip, source=source))
    if request is None:
        return
    try:
        send_signup_mail(provider, settings, request)
    except Exception:
        try:
            db.write(lambda connection: withdraw_subscription(connection, request))
        except Exception:  # the send's error is the one to report; this one is logged
            log.exception("a sign-up whose mail failed could not be withdrawn")
        raise
    db.write(lambda connection: record_mailed_request(connection, request))
