"""Reading the list: ``/beheer/abonnees`` (search, filters, 50 a page, counts) and a person's
page ``/beheer/abonnees/{id}`` (details, consent history, deliveries, the actions)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from digiweetjes.models import Subscriber, SubscriberStatus
from digiweetjes.subscribers import (
    consent_history,
    count_subscribers,
    deliveries_of,
    list_stats,
    list_subscribers,
    subscriber_by_id,
    suppression_of,
)
from digiweetjes.subscribers.labels import STATUS_CHOICES, label
from digiweetjes.subscribers.topics import TOPICS
from digiweetjes.web.admin.auth import AdminUser, Role, admin_error, admin_page, requires
from digiweetjes.web.admin.subscribers.common import (
    BAD_FILTER,
    NOT_FOUND,
    NOTICES,
    person_path,
)
from digiweetjes.web.admin.subscribers.forms import PAGE_SIZE, BadFilter, read_filters
from digiweetjes.web.public.pages import context_of, in_transaction


@dataclass(frozen=True)
class ListRow:
    """One line of the list, read inside the transaction."""

    id: int
    email: str
    name: str
    municipality: str
    status: str
    since: datetime


def _row(subscriber: Subscriber) -> ListRow:
    return ListRow(subscriber.id, subscriber.email or "(gewist)", subscriber.name or "",
                   subscriber.municipality or "", label("status", subscriber.status),
                   subscriber.confirmed_at or subscriber.created_at)


@requires(Role.ADMIN)
async def subscriber_list(request: Request, user: AdminUser) -> Response:
    """The list: search an address or name, filter by status and municipality, 50 a page."""
    context = context_of(request)
    try:
        filters = read_filters(request.query_params, context.settings)
    except BadFilter:
        return admin_error(request, user, 400, BAD_FILTER)
    chosen: dict[str, Any] = {"status": filters.status or None,
                              "municipality": filters.municipality or None,
                              "search": filters.search or None}

    def read(session: Session) -> tuple[int, list[ListRow], dict[str, int]]:
        total = count_subscribers(session, **chosen)
        rows = list_subscribers(session, **chosen, limit=PAGE_SIZE, offset=filters.offset)
        return total, [_row(s) for s in rows], list_stats(session).by_status

    total, rows, by_status = await in_transaction(request, read, write=False)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if filters.page > pages:
        return admin_error(request, user, 404, NOT_FOUND)

    def page_link(number: int) -> str:
        query = urlencode(filters.query(pagina=number))
        return request.url.path + (f"?{query}" if query else "")

    return admin_page(
        request, user, "abonnees/lijst.html.j2", filters=filters, rows=rows, total=total,
        pages=pages, first=filters.offset + 1, last=filters.offset + len(rows),
        previous_link=page_link(filters.page - 1) if filters.page > 1 else None,
        next_link=page_link(filters.page + 1) if filters.page < pages else None,
        by_status=[(label("status", s), by_status.get(s, 0)) for s in SubscriberStatus],
        status_choices=STATUS_CHOICES, export_fields=filters.query(pagina=1),
        filtered=bool(filters.search or filters.status or filters.municipality),
        notice=NOTICES.get(request.query_params.get("melding", "")),
        tz=context.settings.timezone)


@requires(Role.ADMIN)
async def person(request: Request, user: AdminUser) -> Response:
    """One person: details, suppression, consent history from the ledger, their deliveries."""
    context = context_of(request)
    subscriber_id: int = request.path_params["subscriber_id"]

    def read(session: Session) -> dict[str, Any] | None:
        subscriber = subscriber_by_id(session, subscriber_id)
        if subscriber is None:
            return None
        suppression = (suppression_of(session, context.settings, subscriber.email)
                       if subscriber.email else None)
        return {
            "id": subscriber.id,
            "email": subscriber.email,
            "erased": subscriber.status == SubscriberStatus.ERASED,
            "can_unsubscribe": subscriber.status in (SubscriberStatus.ACTIVE,
                                                     SubscriberStatus.PENDING),
            "details": _details(subscriber, suppression),
            "history": [
                {"when": e.occurred_at, "event": label("event", e.event),
                 "source": label("source", e.source),
                 "notice": e.privacy_notice_version or "", "detail": e.detail or ""}
                for e in consent_history(session, subscriber)],
            "deliveries": [
                {"issue": d.issue_id, "subject": d.subject, "state": label("delivery", d.state),
                 "problem": d.state in ("failed", "uncertain"), "sent_at": d.sent_at,
                 "updated_at": d.updated_at, "attempts": d.attempts, "reason": d.reason or ""}
                for d in deliveries_of(session, subscriber)],
        }

    found = await in_transaction(request, read, write=False)
    if found is None:
        return admin_error(request, user, 404, NOT_FOUND)
    return admin_page(request, user, "abonnees/persoon.html.j2", person=found,
                      path=person_path(subscriber_id),
                      notice=NOTICES.get(request.query_params.get("melding", "")),
                      tz=context.settings.timezone)


def _details(subscriber: Subscriber, suppression: Any) -> list[tuple[str, Any]]:
    """(label, value) rows; a value is text or a moment (the template formats moments)."""
    topics = ", ".join(TOPICS.get(t, t) for t in subscriber.topics) or "alle onderwerpen"
    blocked: Any = "nee"
    if suppression is not None:
        blocked = f"ja: {label('suppression', suppression.reason)}"
    return [
        ("Naam", subscriber.name or ""),
        ("Gemeente", subscriber.municipality or ""),
        ("Subregio", subscriber.subregion or ""),
        ("Interesses", topics if subscriber.status != SubscriberStatus.ERASED else ""),
        ("Taal", subscriber.language),
        ("Status", label("status", subscriber.status)),
        ("Bron", label("source", subscriber.source)),
        ("Bron van de toestemming", subscriber.consent_note or ""),
        ("Ingeschreven op", subscriber.created_at),
        ("Bevestigingsmail verstuurd op", subscriber.confirmation_sent_at),
        ("Bevestigd op", subscriber.confirmed_at),
        ("Uitgeschreven op", subscriber.unsubscribed_at),
        ("Onbestelbaar sinds", subscriber.bounced_at),
        ("Klacht op", subscriber.complained_at),
        ("Gewist op", subscriber.erased_at),
        ("Op de blokkeerlijst", blocked),
    ]
