"""Who may open an admin page: ``requires(role)``, the audit log, and the admin frame.

A page is ``async def page(request, user: AdminUser) -> Response`` under ``@requires(role)``:

- nobody logged in: a GET goes to the login page (``?volgende=`` brings them back), a POST gets
  a Dutch 401 page (what it carried is not acted on);
- a session that ran out (idle, 12 hours, or ended by a password reset or removal): the same,
  with a Dutch notice that the session expired;
- logged in with a role that may not: a Dutch 403 page in the admin frame;
- otherwise the page runs, and the session's idle time starts again.

``audit`` records an action in the audit log, in the action's own transaction.
``admin_page`` renders ``templates/web/admin/<template>`` in the admin frame.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from digiweetjes.clock import Clock
from digiweetjes.models import AuditEvent, Role
from digiweetjes.users import AdminUser, record_audit, session_user
from digiweetjes.web.admin import session
from digiweetjes.web.errors import ErrorText
from digiweetjes.web.public.csrf import csrf_token
from digiweetjes.web.public.pages import NO_STORE, context_of, in_transaction

__all__ = ["AdminUser", "Role", "admin_error", "admin_page", "audit", "current_user",
           "requires"]

LOGIN_PATH = "/beheer/aanmelden"
LOGOUT_PATH = "/beheer/afmelden"
HOME_PATH = "/beheer"

AdminEndpoint = Callable[[Request, AdminUser], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

NOT_LOGGED_IN = ErrorText("Je bent niet aangemeld", (
    "Meld je aan om deze pagina te gebruiken. Wat je verstuurde, is niet uitgevoerd.",))
EXPIRED = ErrorText("Je sessie is verlopen", (
    "Je was een tijd niet actief, of je sessie werd beëindigd (bijvoorbeeld omdat je wachtwoord "
    "veranderde). Wat je verstuurde, is niet uitgevoerd.",
    "Meld je opnieuw aan en probeer het nog eens."))
WRONG_ROLE = ErrorText("Hier heb je geen toegang", (
    "Deze pagina is alleen voor beheerders. Heb je ze nodig, vraag het dan aan een beheerder.",))


@dataclass(frozen=True)
class NavItem:
    """One link of the admin navigation."""

    label: str
    href: str
    current: bool


#: (label, path, role needed); a path also marks the pages below it as current.
NAVIGATION: tuple[tuple[str, str, Role], ...] = (
    ("Overzicht", HOME_PATH, Role.EDITOR),
    ("Nummers", "/beheer/nummers", Role.EDITOR),
    ("Abonnees", "/beheer/abonnees", Role.ADMIN),
    ("Logboek", "/beheer/logboek", Role.ADMIN),
)


def navigation(user: AdminUser | None, path: str) -> list[NavItem]:
    """The links ``user`` may follow, the one for ``path`` marked current."""
    if user is None:
        return []
    return [NavItem(label, href, path == href or (href != HOME_PATH
                                                  and path.startswith(href + "/")))
            for label, href, role in NAVIGATION if user.may(role)]


def login_url(next_path: str | None = None, *, expired: bool = False) -> str:
    """The login page, bringing the user back to ``next_path`` afterwards."""
    query = {}
    if next_path and next_path != HOME_PATH:
        query["volgende"] = next_path
    if expired:
        query["sessie"] = "verlopen"
    return LOGIN_PATH + (f"?{urlencode(query)}" if query else "")


async def current_user(request: Request) -> tuple[AdminUser | None, bool]:
    """The logged-in user (the idle time restarts), or None; and whether a session ran out."""
    context = context_of(request)
    now = context.clock.now()
    state = session.read(request)
    if state is None:
        if request.session:
            session.end(request)  # not a session of ours: drop it
        return None, False
    if state.expired(now, timedelta(minutes=context.settings.web.admin_idle_minutes)):
        session.end(request)
        return None, True
    user = await in_transaction(
        request, lambda db: session_user(db, state.user_id, state.epoch), write=False)
    if user is None:  # removed, or the password was reset since
        session.end(request)
        return None, True
    session.touch(request, now)
    return user, False


def requires(role: Role) -> Callable[[AdminEndpoint], Endpoint]:
    """Decorator of an admin page: only for users whose role may do what ``role`` may."""

    def decorate(page: AdminEndpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            user, expired = await current_user(request)
            if user is None:
                return refuse_anonymous(request, expired=expired)
            if not user.may(role):
                return admin_error(request, user, 403, WRONG_ROLE)
            return await page(request, user)

        endpoint.__name__ = page.__name__
        endpoint.__qualname__ = page.__qualname__
        endpoint.__doc__ = page.__doc__
        return endpoint

    return decorate


def refuse_anonymous(request: Request, *, expired: bool) -> Response:
    """To the login page (GET, HEAD) or a 401 page (anything else)."""
    if request.method in ("GET", "HEAD"):
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(login_url(path, expired=expired), status_code=303,
                                headers=NO_STORE)
    return admin_error(request, None, 401, EXPIRED if expired else NOT_LOGGED_IN,
                       login_link=login_url(expired=expired))


def audit(db: Session, clock: Clock, user: AdminUser, action: str,
          detail: str = "") -> AuditEvent:
    """Record that ``user`` did ``action`` (call it in the action's own transaction).
    ``detail`` is shown to admins: name a subscriber by id, never by address."""
    return record_audit(db, clock, user.name, action, detail)


def admin_page(request: Request, user: AdminUser | None, template: str, *, status: int = 200,
               **values: object) -> HTMLResponse:
    """A page of ``templates/web/admin/`` in the admin frame (user, navigation, CSRF token,
    ``timezone`` for the ``date_time`` filter); never cached."""
    context = context_of(request)
    body = context.render(f"web/admin/{template}", user=user,
                          nav=navigation(user, request.url.path),
                          csrftoken=csrf_token(request), logout_action=LOGOUT_PATH,
                          timezone=context.settings.timezone, status=status, **values)
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


def admin_error(request: Request, user: AdminUser | None, status: int, text: ErrorText,
                **values: object) -> HTMLResponse:
    """A Dutch error page in the admin frame."""
    return admin_page(request, user, "error.html.j2", status=status, title=text.title,
                      paragraphs=text.paragraphs, **values)
