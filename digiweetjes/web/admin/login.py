"""``/beheer/aanmelden`` (the login form and its POST) and ``/beheer/afmelden`` (POST).

Both forms carry the CSRF token (login CSRF too: a forged login would put someone in another's
account). A refusal never says whether the name exists: "Naam of wachtwoord klopt niet", or
while locked out "Te veel mislukte pogingen; probeer het over N minuten opnieuw". A good login
starts a new session (the old cookie's content is dropped) and is written to the audit log, as
are a logout and the start of a lock-out. A logout ends all the user's sessions: the cookie is
signed, not stored, so a copy of it would otherwise stay valid until it ran out.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from digiweetjes.models import LockScope
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.users import LoginAttempt, authenticate, end_sessions, record_audit
from digiweetjes.users.login import account_key
from digiweetjes.web.admin import session
from digiweetjes.web.admin.auth import (
    HOME_PATH,
    LOGIN_PATH,
    LOGOUT_PATH,
    admin_page,
    audit,
    current_user,
)
from digiweetjes.web.admin.session import is_admin_path
from digiweetjes.web.public.pages import NO_STORE, client_ip, context_of, in_transaction

#: Longest name and password read from the form (longer ones are refused as wrong anyway).
MAX_NAME = 200
MAX_PASSWORD = 1024

NOTICES = {
    "verlopen": "Je sessie is verlopen. Meld je opnieuw aan.",
    "afgemeld": "Je bent afgemeld.",
}


def safe_next(value: object) -> str:
    """Where to go after logging in: an admin page of this site, nothing else (no open
    redirect to ``//elders.example`` or ``/beheer/../``)."""
    if not isinstance(value, str) or not value or len(value) > 500:
        return HOME_PATH
    path = value.split("?", 1)[0]
    if (not is_admin_path(path) or "\\" in value or "//" in value or "/." in path
            or any(ord(c) < 33 or ord(c) == 127 for c in value)
            or path.startswith(LOGIN_PATH)):
        return HOME_PATH
    return value


def _form(request: Request, *, status: int = 200, name: str = "", error: str | None = None,
          next_path: str = HOME_PATH, notice: str | None = None,
          headers: dict[str, str] | None = None) -> Response:
    response = admin_page(request, None, "login.html.j2", status=status, typed_name=name,
                          error=error, next_path=next_path, notice=notice,
                          action=LOGIN_PATH)
    if headers:
        response.headers.update(headers)
    return response


async def login_form(request: Request) -> Response:
    """GET: the form (or straight on, when already logged in)."""
    next_path = safe_next(request.query_params.get("volgende"))
    user, _expired = await current_user(request)
    if user is not None:
        return RedirectResponse(next_path, status_code=303, headers=NO_STORE)
    notice = None
    if request.query_params.get("sessie") == "verlopen":
        notice = NOTICES["verlopen"]
    elif "afgemeld" in request.query_params:
        notice = NOTICES["afgemeld"]
    return _form(request, next_path=next_path, notice=notice)


async def login_post(request: Request) -> Response:
    """POST: check the name and password; a new session on success."""
    context = context_of(request)
    form = await request.form()
    name = str(form.get("naam") or "")[:MAX_NAME]
    password = str(form.get("wachtwoord") or "")[:MAX_PASSWORD + 1]
    next_path = safe_next(form.get("volgende"))
    ip_hash = Hasher(context.settings).ip(client_ip(request))
    now = context.clock.now()

    def work(db: Session) -> LoginAttempt:
        attempt = authenticate(db, name, password, ip_hash=ip_hash, now=now)
        if attempt.user is not None:
            audit(db, context.clock, attempt.user, "login")
        for scope in attempt.locked_now:
            # No raw IP address in the log: only that one was locked.
            detail = (f"account {account_key(name)!r}" if scope is LockScope.ACCOUNT
                      else "IP-adres")
            record_audit(db, context.clock, "-", "login.locked", detail)
        return attempt

    attempt = await in_transaction(request, work)
    if attempt.user is None:
        refused = attempt.refused
        assert refused is not None
        if refused.locked_minutes:
            return _form(request, status=429, name=name, error=str(refused),
                         next_path=next_path,
                         headers={"retry-after": str(refused.locked_minutes * 60)})
        return _form(request, status=401, name=name, error=str(refused), next_path=next_path)
    session.start(request, attempt.user, attempt.epoch, now)
    return RedirectResponse(next_path, status_code=303, headers=NO_STORE)


async def logout(request: Request) -> Response:
    """POST: end the user's sessions, on every device (written to the audit log), and show the
    login page."""
    context = context_of(request)
    user, _expired = await current_user(request)
    if user is not None:
        logged_out = user

        def work(db: Session) -> None:
            end_sessions(db, logged_out.id)
            audit(db, context.clock, logged_out, "logout")

        await in_transaction(request, work)
    session.end(request)
    return RedirectResponse(f"{LOGIN_PATH}?afgemeld=1", status_code=303, headers=NO_STORE)


async def login(request: Request) -> Response:
    """One endpoint for the form and its POST (a wrong method's 405 lists both)."""
    return await (login_post(request) if request.method == "POST" else login_form(request))


def routes() -> list[BaseRoute]:
    return [Route(LOGIN_PATH, login, methods=["GET", "HEAD", "POST"]),
            Route(LOGOUT_PATH, logout, methods=["POST"])]
