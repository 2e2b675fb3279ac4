"""The admin pages' session: a signed cookie (Starlette's SessionMiddleware, itsdangerous).

The cookie ``digiweetjes_beheer`` holds only who is logged in (user id and the user's
``session_epoch``), when they logged in and when they were last seen; it is signed with a key
derived from ``DIGIWEETJES_SECRET_KEY``, ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the
site is served over https, and sent back only to ``/beheer``. Both lifetimes are checked with
the app's clock on every request: idle (``Settings.web.admin_idle_minutes``) and absolute
(12 hours). The cookie's own signature age is only a backstop (itsdangerous reads the real
clock, and the signature is renewed on every request). A password reset or a removal bumps the
user's epoch, which ends every session made before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digiweetjes.config import Settings
from digiweetjes.subscribers.hashing import derive_key
from digiweetjes.users import AdminUser

PREFIX = "/beheer"
COOKIE = "digiweetjes_beheer"
ABSOLUTE = timedelta(hours=12)

_USER, _EPOCH, _LOGIN, _SEEN = "uid", "epoch", "login", "seen"


def is_admin_path(path: str) -> bool:
    """Whether ``path`` is one of the admin pages (``/beheer`` and below)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def middleware(settings: Settings) -> list[Middleware]:
    """The admin pages' middleware: no-store on every answer, then the session cookie; only
    below ``/beheer`` (``AdminOnly``)."""
    return [Middleware(AdminOnly, settings=settings)]


class AdminOnly:
    """``NoStore`` and the session cookie around the admin pages; any other request (the
    public pages, one-click, webhooks) goes past them, as neither has anything to do there."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.admin = NoStore(SessionMiddleware(
            app, secret_key=derive_key(settings, "admin-session").hex(), session_cookie=COOKIE,
            max_age=int(ABSOLUTE.total_seconds()), path=PREFIX, same_site="lax",
            https_only=settings.base_url.startswith("https://")))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_admin_path(scope["path"]):
            await self.admin(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class NoStore:
    """``Cache-Control: no-store`` on every answer below ``/beheer``: personal data and
    logged-in pages must stay out of shared caches and the browser's history cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_admin_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", [])
                           if name.lower() != b"cache-control"]
                headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_no_store)


@dataclass(frozen=True)
class SessionState:
    """Who a session cookie says is logged in, and since when."""

    user_id: int
    epoch: int
    login_at: datetime
    seen_at: datetime

    def expired(self, now: datetime, idle: timedelta) -> bool:
        """Idle too long, or older than the absolute lifetime (or from the future)."""
        return (now - self.seen_at > idle or now - self.login_at > ABSOLUTE
                or self.login_at > now + timedelta(minutes=5))


def start(request: Request, user: AdminUser, epoch: int, now: datetime) -> None:
    """A new session for ``user``: whatever the cookie held before is dropped (no fixation)."""
    request.session.clear()
    stamp = now.isoformat()
    request.session.update({_USER: user.id, _EPOCH: epoch, _LOGIN: stamp, _SEEN: stamp})


def end(request: Request) -> None:
    """Forget the session (the answer deletes the cookie)."""
    request.session.clear()


def read(request: Request) -> SessionState | None:
    """The session's state, or None when there is none (or it is not ours)."""
    data = request.session
    try:
        return SessionState(user_id=int(data[_USER]), epoch=int(data[_EPOCH]),
                            login_at=datetime.fromisoformat(data[_LOGIN]),
                            seen_at=datetime.fromisoformat(data[_SEEN]))
    except (KeyError, TypeError, ValueError):
        return None


def touch(request: Request, now: datetime) -> None:
    """Note activity now (the idle time starts again)."""
    request.session[_SEEN] = now.isoformat()
