"""``/beheer/logboek`` (admins only): the audit log, newest first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digiweetjes.models import Role
from digiweetjes.users import AdminUser, recent_audit
from digiweetjes.web.admin.auth import admin_page, requires
from digiweetjes.web.public.pages import in_transaction

SHOWN = 200

#: The actions' Dutch names on the page (others show as they are stored).
ACTIONS = {
    "login": "aangemeld",
    "logout": "afgemeld",
    "login.locked": "vergrendeld na mislukte aanmeldingen",
    "user.add": "gebruiker toegevoegd",
    "user.remove": "gebruiker verwijderd",
    "user.reset-password": "wachtwoord opnieuw ingesteld",
    "subscriber.add": "abonnee toegevoegd",
    "subscriber.unsubscribe": "abonnee uitgeschreven",
    "subscriber.erase": "abonnee gewist",
    "subscriber.export": "gegevens van een abonnee gedownload",
    "subscribers.import": "abonnees geïmporteerd",
    "subscribers.export": "abonneelijst geëxporteerd",
    "issue.approve": "nummer goedgekeurd",
    "issue.schedule": "nummer ingepland",
    "issue.unschedule": "nummer niet meer ingepland",
    "issue.test-send": "testmail verstuurd",
}


@requires(Role.ADMIN)
async def logbook(request: Request, user: AdminUser) -> Response:
    """GET: the newest entries of the audit log."""
    events = await in_transaction(request, lambda db: recent_audit(db, SHOWN), write=False)
    return admin_page(request, user, "logbook.html.j2", events=events, actions=ACTIONS,
                      shown=SHOWN)


def routes() -> list[BaseRoute]:
    return [Route("/beheer/logboek", logbook, methods=["GET", "HEAD"])]
