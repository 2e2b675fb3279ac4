"""Double opt-in: a subscription request, its confirmation link, an admin's add, import mails.

Rules kept here:
- a known address subscribing again creates no duplicate and the caller learns nothing; only the
  mailbox owner does (a fresh confirmation, or "je bent al ingeschreven"), at most one mail an
  hour per address;
- an address on the suppression list comes back only through a confirmation link the person
  asked for after leaving;
- a confirmation (or "already subscribed") mail goes on the provider's transactional path:
  when the provider refuses it or fails, a ``ProviderError`` with a Dutch message naming the
  mail, the address and the provider propagates and no pending subscriber, consent event or
  throttle row is left of a request the person never heard of (rolled back with the caller's
  transaction, or withdrawn after it: ``signup``); sending again (the form, ``subscribers
  add``) is the fix.

The sign-up form's request itself is in ``signup``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digiweetjes import links
from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.errors import (
    PermanentProviderError,
    SubscriberError,
    SuppressedError,
    TokenError,
    TransientProviderError,
    UncertainOutcomeError,
)
from digiweetjes.models import (
    ConsentEventType,
    MailThrottle,
    Source,
    Subscriber,
    SubscriberStatus,
    Suppression,
)
from digiweetjes.providers.base import BatchContent, Provider, RecipientResult
from digiweetjes.subscribers.cleaning import check_language, clean_consent_note, clean_name
from digiweetjes.subscribers.consent import CONSENT_SOURCE_DETAIL, record_consent
from digiweetjes.subscribers.emails import email_key, mixed_script_parts, skeleton
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.labels import label
from digiweetjes.subscribers.lookup import lookup_email, subscriber_for_claims
from digiweetjes.subscribers.places import municipality_and_subregion
from digiweetjes.subscribers.tokens import Purpose, make_token, read_token, subscriber_links
from digiweetjes.subscribers.topics import parse_topics
from digiweetjes.subscribers.transactional import (
    MailKind,
    ServiceMail,
    render_service_mail,
    send_rendered,
    send_service_mail,
)

MAIL_THROTTLE = timedelta(hours=1)
OPTED_OUT = (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED,
             SubscriberStatus.COMPLAINED)


def _throttle_allows(session: Session, email_hash: str, kind: MailKind, now: datetime) -> bool:
    """True (and the mail recorded) when this address got no such mail in the last hour."""
    row = session.get(MailThrottle, email_hash)
    if row is not None and now - row.sent_at < MAIL_THROTTLE:
        return False
    if row is None:
        session.add(MailThrottle(email_hash=email_hash, kind=kind, sent_at=now))
    else:
        row.kind, row.sent_at = kind, now
    return True


class Addressee(Protocol):
    """Who a service mail is for: an ORM ``Subscriber``, or a sign-up's ``signup.Person``."""

    @property
    def id(self) -> int | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def email_hash(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...


def confirmation_mail(settings: Settings, clock: Clock, subscriber: Addressee) -> ServiceMail:
    """The double opt-in mail of one subscriber, with a fresh confirmation link."""
    token = make_token(settings, clock, Purpose.CONFIRM, subscriber.email_hash or "")
    return ServiceMail(
        reference=f"confirm-{subscriber.id}-{int(clock.now().timestamp())}",
        email=subscriber.email or "", name=subscriber.name,
        urls={"confirm_url": links.confirm_url(settings, token)})


def _send_confirmation(provider: Provider, settings: Settings, clock: Clock,
                       subscriber: Subscriber) -> None:
    assert subscriber.email and subscriber.email_hash
    send_service_mail(provider, settings, MailKind.CONFIRM,
                      confirmation_mail(settings, clock, subscriber))
    subscriber.confirmation_sent_at = clock.now()


def already_subscribed_mail(settings: Settings, clock: Clock,
                            subscriber: Addressee) -> ServiceMail:
    """The "je bent al ingeschreven" mail, with fresh preferences and unsubscribe links."""
    assert subscriber.email and subscriber.email_hash
    return ServiceMail(
        reference=f"already-{subscriber.id}-{int(clock.now().timestamp())}",
        email=subscriber.email, name=subscriber.name,
        urls=subscriber_links(settings, clock, subscriber.email_hash))


def new_subscriber(hasher: Hasher, now: datetime, normalized: str, *, name: str | None,
                    municipality: str | None, subregion: str | None, topics: list[str],
                    language: str, status: SubscriberStatus, source: Source,
                    consent_note: str | None = None) -> Subscriber:
    key = email_key(normalized)
    return Subscriber(
        email=normalized, email_key=key, email_hash=hasher.email(key), name=name,
        municipality=municipality, subregion=subregion, topics=topics, language=language,
        status=status, source=source, consent_note=consent_note, created_at=now, updated_at=now,
        confirmed_at=now if status is SubscriberStatus.ACTIVE else None,
    )



def confirm(session: Session, clock: Clock, settings: Settings, token: str, *,
            ip: str | None = None) -> Subscriber:
    """The confirmation link was followed: the subscriber becomes ``active`` (idempotent)."""
    claims = read_token(settings, clock, token, Purpose.CONFIRM)
    subscriber = subscriber_for_claims(session, claims, "bevestigingslink")
    if subscriber.status == SubscriberStatus.ACTIVE:
        return subscriber
    opted_out = subscriber.opted_out_at
    if subscriber.status in OPTED_OUT and opted_out and claims.issued_at <= opted_out:
        # An old link must not undo a later unsubscribe; only a fresh request can.
        raise TokenError("deze bevestigingslink is ouder dan de uitschrijving: schrijf je "
                         "opnieuw in voor een nieuwe link", reason="expired")
    now = clock.now()
    hasher = Hasher(settings)
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.confirmed_at = now
    subscriber.updated_at = now
    record_consent(session, settings, hasher, now, subscriber, ConsentEventType.CONFIRMED,
                   Source.FORM, ip=ip, notice=True)
    # A fresh confirmed opt-in by the person is the one thing that lifts a suppression.
    session.execute(delete(Suppression).where(Suppression.email_hash == subscriber.email_hash))
    session.flush()
    return subscriber


def address_warnings(session: Session, hasher: Hasher, normalized: str) -> list[str]:
    """Dutch warnings for an address an admin adds: mixed scripts, a look-alike of a known one.

    Warnings, not refusals: a domain in one script (IDN) is fine, and a mixture may be genuine.
    """
    if normalized.isascii():  # the everyday case, and every row of a large import: no lookups
        return []
    warnings = [
        f"{part!r} in {normalized} mengt letters uit verschillende schriften "
        f"({' en '.join(scripts)}); controleer of het adres echt zo gespeld is"
        for part, scripts in mixed_script_parts(normalized)]
    lookalike = skeleton(normalized)
    if lookalike != normalized:
        key = email_key(lookalike)
        if session.get(Suppression, hasher.email(key)) is not None:
            warnings.append(
                f"{normalized} lijkt op een adres op de blokkeerlijst (tekens uit een ander "
                "schrift); wie zich uitschreef, mag niet via een gelijkend adres terugkomen: "
                "controleer het adres en verwijder het als het niet klopt")
        elif known := session.scalar(select(Subscriber.email).where(Subscriber.email_key == key)):
            warnings.append(
                f"{normalized} lijkt op {known}, dat al op de lijst staat (tekens uit een "
                "ander schrift); controleer het adres")
    return warnings


def add_subscriber(session: Session, provider: Provider, clock: Clock, settings: Settings, *,
                   email: str, name: str | None = None, municipality: str | None = None,
                   topics: Sequence[str] | str | None = None, language: str = "nl-BE",
                   consent_source: str | None = None,
                   warnings: list[str] | None = None) -> Subscriber:
    """An admin adds one person: ``active`` with a stated consent source, else ``pending``.

    Warnings about the address (``address_warnings``) are appended to ``warnings``.
    """
    hasher = Hasher(settings)
    now = clock.now()
    normalized, existing = lookup_email(session, email)
    suppression = session.get(Suppression, hasher.email(email_key(normalized)))
    if suppression is not None:
        raise SuppressedError(
            f"{normalized} staat op de blokkeerlijst ({label('suppression', suppression.reason)}"
            f" sinds {suppression.created_at:%d/%m/%Y}): enkel de persoon zelf kan zich opnieuw "
            "inschrijven, via het formulier en de bevestigingslink"
        )
    if existing is not None:
        raise SubscriberError(f"{normalized} staat al op de lijst (status: "
                              f"{label('status', existing.status)})")
    note = clean_consent_note(consent_source)
    name = clean_name(name)
    municipality, subregion = municipality_and_subregion(settings, municipality)
    if warnings is not None:
        warnings.extend(address_warnings(session, hasher, normalized))
    subscriber = new_subscriber(
        hasher, now, normalized, name=name, municipality=municipality,
        subregion=subregion, topics=parse_topics(topics), language=check_language(language),
        status=SubscriberStatus.ACTIVE if note else SubscriberStatus.PENDING,
        source=Source.ADMIN, consent_note=note)
    session.add(subscriber)
    session.flush()
    # The ledger's detail is shown to admins (``subscribers show``, the person page): Dutch.
    detail = f"{CONSENT_SOURCE_DETAIL}{note}" if note else "bevestiging gevraagd"
    record_consent(session, settings, hasher, now, subscriber, ConsentEventType.SUBSCRIBED,
                   Source.ADMIN, detail=detail)
    if note is None:
        _throttle_allows(session, subscriber.email_hash or "", MailKind.CONFIRM, now)
        _send_confirmation(provider, settings, clock, subscriber)
    session.flush()
    return subscriber


#: Attempts at one confirmation of an import's run when the provider answers "later" (429,
#: 5xx, a lost answer); a duplicate confirmation is harmless, a missing one is not.
CONFIRMATION_ATTEMPTS = 3


def send_pending_confirmations(session: Session, provider: Provider, clock: Clock,
                               settings: Settings, *, chunk: int = 1000,
                               pause: Callable[[float], None] | None = None,
                               problems: list[str] | None = None) -> int:
    """Mail a confirmation to every ``pending`` subscriber who never got one (after an import).

    One request a confirmation (``transactional.send_service_mails`` says why). A refused one
    is marked as sent too, so a bad address does not block the rest forever. A transient error
    or a lost answer is retried after ``pause(seconds)`` (the provider's hint, at least one
    second; the reference is the idempotency key where the provider has one); when it
    persists, or without ``pause``, the run stops there: what was sent stays marked, the rest
    waits for the next run (``subscribers send-confirmations``). Dutch lines about refused and
    unsent mails are appended to ``problems``. Returns how many were sent.
    """
    sent = 0
    content = render_service_mail(settings, MailKind.CONFIRM)
    while True:
        batch = list(session.scalars(
            select(Subscriber)
            .where(Subscriber.status == SubscriberStatus.PENDING,
                   Subscriber.confirmation_sent_at.is_(None))
            .order_by(Subscriber.id).limit(chunk)))
        if not batch:
            return sent
        for subscriber in batch:
            mail = confirmation_mail(settings, clock, subscriber)
            try:
                result = _send_with_retries(provider, content, mail, pause)
            except (TransientProviderError, UncertainOutcomeError) as exc:
                if problems is not None:
                    problems.append(f"gestopt: {exc}; wie nog geen bevestigingsmail kreeg, "
                                    "krijgt die bij de volgende `subscribers send-confirmations`")
                session.flush()
                return sent
            except PermanentProviderError as exc:
                result = RecipientResult(mail.reference, "failed", reason=str(exc))
            subscriber.confirmation_sent_at = clock.now()
            if result.status == "sent":
                sent += 1
            elif problems is not None:
                problems.append(f"geweigerd: {result.reason}")
        session.flush()


def _send_with_retries(provider: Provider, content: BatchContent, mail: ServiceMail,
                       pause: Callable[[float], None] | None) -> RecipientResult:
    for attempt in range(1, CONFIRMATION_ATTEMPTS + 1):
        try:
            return send_rendered(provider, content, MailKind.CONFIRM, mail)
        except (TransientProviderError, UncertainOutcomeError) as exc:
            if pause is None or attempt == CONFIRMATION_ATTEMPTS:
                raise
            pause(max(1.0, getattr(exc, "retry_after", None) or 1.0))
    raise AssertionError("unreachable")
