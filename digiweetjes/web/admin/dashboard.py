"""``/beheer``: the overview, a list of cards (figures the other admin pages contribute)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digiweetjes.models import Role
from digiweetjes.users import AdminUser
from digiweetjes.web.admin.auth import admin_page, requires
from digiweetjes.web.context import WebContext
from digiweetjes.web.public.pages import context_of, in_transaction


@dataclass(frozen=True)
class Card:
    """One block of the overview: a title, a main figure or sentence, more lines, a link."""

    title: str
    value: str = ""
    lines: tuple[str, ...] = ()
    link: tuple[str, str] | None = None  # (text, href)
    #: Shown as a warning (e.g. a bounce rate above the providers' threshold).
    warning: bool = False


def cards(db: Session, context: WebContext, user: AdminUser) -> list[Card]:
    """The overview's cards for ``user`` (figures are added here as pages arrive)."""
    found: list[Card] = []
    if user.may(Role.ADMIN):
        found.append(Card("Logboek", lines=("Wie deed wat en wanneer op deze pagina's.",),
                          link=("Het logboek bekijken", "/beheer/logboek")))
    return found


@requires(Role.EDITOR)
async def dashboard(request: Request, user: AdminUser) -> Response:
    """GET: the overview."""
    context = context_of(request)
    found = await in_transaction(request, lambda db: cards(db, context, user), write=False)
    return admin_page(request, user, "dashboard.html.j2", cards=found)


def routes() -> list[BaseRoute]:
    return [Route("/beheer", dashboard, methods=["GET", "HEAD"])]
