"""``/beheer``: the overview. Cards with the main figures, then the subscribers by status and by
subregion and municipality, sign-ups and unsubscribes per week (a chart and its table), and the
last sends with their delivery counts and hard-bounce and complaint rates (a warning above the
providers' thresholds: ``feedback.rates``).

Counts only, never an address: editors see this page too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digiweetjes.config import BRUSSELS
from digiweetjes.errors import ContentError
from digiweetjes.feedback.rates import COMPLAINT_WARNING, HARD_BOUNCE_WARNING, recent_sends, totals
from digiweetjes.models import Role, SubscriberStatus
from digiweetjes.render.formatting import LOCALE
from digiweetjes.subscribers.listing import list_stats
from digiweetjes.subscribers.places import region
from digiweetjes.subscribers.trends import weekly_changes
from digiweetjes.users import AdminUser
from digiweetjes.web.admin.auth import admin_page, requires
from digiweetjes.web.admin.chart import weekly_chart
from digiweetjes.web.context import WebContext
from digiweetjes.web.public.pages import context_of, in_transaction

#: The subscriber statuses as the overview names them, in this order.
STATUS_WORDS = {
    SubscriberStatus.ACTIVE.value: "actief",
    SubscriberStatus.PENDING.value: "wacht op bevestiging",
    SubscriberStatus.UNSUBSCRIBED.value: "uitgeschreven",
    SubscriberStatus.BOUNCED.value: "onbestelbaar (bounce)",
    SubscriberStatus.COMPLAINED.value: "klacht (spam gemeld)",
    SubscriberStatus.ERASED.value: "gewist",
}
#: Recent sends shown with their rates.
RECENT_SENDS = 5
WEEKS = 26


@dataclass(frozen=True)
class Card:
    """One block of the overview: a title, a main figure or sentence, more lines, a link."""

    title: str
    value: str = ""
    lines: tuple[str, ...] = ()
    link: tuple[str, str] | None = None  # (text, href)
    #: Shown as a warning (e.g. a bounce rate above the providers' threshold).
    warning: bool = False


@dataclass(frozen=True)
class PlaceRow:
    """A subregion or a municipality with its active and total (not erased) subscribers."""

    name: str
    active: int
    total: int
    #: A subregion's row (its municipalities follow it).
    heading: bool = False


def percent(rate: float | None) -> str:
    """``0,27 %``; ``–`` when nothing was sent."""
    if rate is None:
        return "–"
    return format_decimal(rate * 100, format="#,##0.##", locale=LOCALE) + " %"


def places(context: WebContext, by_municipality: dict[str | None, dict[str, int]],
           by_subregion: dict[str | None, dict[str, int]]) -> list[PlaceRow]:
    """Each subregion, then its municipalities; then those the region does not know."""

    def row(name: str, counts: dict[str, int] | None, heading: bool = False) -> PlaceRow:
        counts = counts or {}
        return PlaceRow(name, counts.get(SubscriberStatus.ACTIVE.value, 0),
                        sum(counts.values()), heading)

    rows: list[PlaceRow] = []
    try:
        subregions = region(context.settings).subregions
    except ContentError:
        subregions = ()
    known: set[str | None] = set()
    for subregion in subregions:
        rows.append(row(subregion.name, by_subregion.get(subregion.id), heading=True))
        for municipality in subregion.municipalities:
            rows.append(row(municipality, by_municipality.get(municipality)))
            known.add(municipality)
    for municipality, counts in sorted(by_municipality.items(), key=lambda i: i[0] or ""):
        if municipality not in known:
            rows.append(row(municipality or "geen gemeente opgegeven", counts))
    return rows


def overview(session: Session, context: WebContext, user: AdminUser) -> dict[str, Any]:
    """Everything the overview shows, read in one transaction."""
    stats = list_stats(session)
    weeks = weekly_changes(session, context.clock.now(), BRUSSELS, weeks=WEEKS)
    sends = recent_sends(session, limit=RECENT_SENDS)
    together = totals(sends)
    active = stats.by_status.get(SubscriberStatus.ACTIVE.value, 0)
    pending = stats.by_status.get(SubscriberStatus.PENDING.value, 0)
    found = [
        Card("Actieve abonnees", str(active),
             (f"{pending} wachten nog op bevestiging.",),
             ("Abonnees beheren", "/beheer/abonnees") if user.may(Role.ADMIN) else None),
        Card(f"Laatste {WEEKS} weken",
             f"+{sum(w.signups for w in weeks)} / −{sum(w.unsubscribes for w in weeks)}",
             ("aanmeldingen / uitschrijvingen",)),
    ]
    warning = together.hard_bounce_warning or together.complaint_warning
    lines = [f"Onbestelbaar (harde bounces): {percent(together.hard_bounce_rate)}",
             f"Klachten (spam gemeld): {percent(together.complaint_rate)}"]
    if warning:
        lines.insert(0, "boven de drempel van de mailproviders; zie de laatste verzendingen.")
    found.append(Card("Bounces en klachten", lines=tuple(lines), warning=warning,
                      link=("De nummers bekijken", "/beheer/nummers")))
    if user.may(Role.ADMIN):
        found.append(Card("Logboek", lines=("Wie deed wat en wanneer op deze pagina's.",),
                          link=("Het logboek bekijken", "/beheer/logboek")))
    return {
        "cards": found,
        "stats": stats,
        "status_words": STATUS_WORDS,
        "places": places(context, stats.by_municipality, stats.by_subregion),
        "chart": weekly_chart(weeks),
        "sends": sends,
        "together": together,
        "percent": percent,
        "complaint_threshold": percent(COMPLAINT_WARNING),
        "bounce_threshold": percent(HARD_BOUNCE_WARNING),
    }


@requires(Role.EDITOR)
async def dashboard(request: Request, user: AdminUser) -> Response:
    """GET: the overview."""
    context = context_of(request)
    values = await in_transaction(request, lambda db: overview(db, context, user), write=False)
    return admin_page(request, user, "dashboard.html.j2", **values)


def routes() -> list[BaseRoute]:
    return [Route("/beheer", dashboard, methods=["GET", "HEAD"])]
