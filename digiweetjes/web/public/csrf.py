"""CSRF protection of the public forms: the maintained ``asgi-csrf`` (double-submit cookie).

Who is protected, and why:

- the forms behind a link's token (confirm, preferences, the unsubscribe page's button) carry
  the hidden field ``csrftoken``, which must equal the ``csrftoken`` cookie (signed with a key
  derived from ``DIGIWEETJES_SECRET_KEY``). asgi-csrf lets a POST without any cookie through
  unless its path is in ``always_protect``; these paths are, so a POST without the cookie
  (cookies off, or a forged cross-site post) is refused too. A refusal is our Dutch 403 page.
- RFC 8058 one-click (``POST /uitschrijven/<token>`` with ``List-Unsubscribe=One-Click``) is
  exempt: mail providers post it without cookies and without our form. Headers cannot tell it
  from the page's own form, so for that path only the (small, already size-limited) body is read
  here first, and a body with ``List-Unsubscribe=One-Click`` and no ``csrftoken`` field skips
  the check. It grants nothing a forged post could not: the token in the URL is the authority.
- every admin page below ``/beheer`` (``web.admin``), the login form included: a forged login
  would put the visitor in someone else's account, a forged logout or action is worse. A
  multipart form (the CSV import) must put its ``csrftoken`` field before the file; asgi-csrf
  0.11 cannot read multipart bodies with today's python-multipart, so ``csrf_multipart``
  finds the token and asgi-csrf checks it in a stand-in urlencoded body (see there).
- the sign-up POST is exempt: it carries no authority (there is no session), the archive's
  static pages cannot carry a token, and it is guarded by the honeypot, the per-IP limit, the
  per-address mail throttle and double opt-in. Webhooks (machines, signed) are exempt as well.
- methods other than GET/HEAD/POST never reach asgi-csrf: no route takes them, so they get
  the router's 405, not a 403.

The cookie: ``SameSite=Lax``, ``HttpOnly`` (added here: the token travels in the page, never
read by script) and ``Secure`` when the site is served over https.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgi_csrf import asgi_csrf
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digiweetjes.config import Settings
from digiweetjes.subscribers.hashing import derive_key
from digiweetjes.web.errors import error_response
from digiweetjes.web.public.csrf_multipart import is_multipart, multipart_token, stand_in

COOKIE = "csrftoken"
FIELD = "csrftoken"
#: Paths whose POST needs the token: each followed by a link's token, and the admin pages.
PROTECTED_PREFIXES = ("/bevestigen/", "/voorkeuren/", "/uitschrijven/", "/beheer/")
ADMIN_HOME = "/beheer"
ONE_CLICK_PREFIX = "/uitschrijven/"
ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"
URLENCODED = "application/x-www-form-urlencoded"
#: Where this request's guard state lives in the ASGI scope (asgi-csrf copies the scope, so
#: state is an object shared by the copies, not a key set later).
STATE_KEY = "digiweetjes.csrf"


class GuardState:
    """What the guard learnt about one request."""

    __slots__ = ("one_click", "original", "reached_app")

    def __init__(self) -> None:
        self.one_click = False
        self.reached_app = False
        #: A multipart request's own headers and body, for the app (``csrf_multipart``).
        self.original: tuple[list[tuple[bytes, bytes]], Receive] | None = None


def is_protected(path: str) -> bool:
    """Whether a POST to ``path`` must carry the token."""
    return path.startswith(PROTECTED_PREFIXES) or path == ADMIN_HOME


class _ProtectedPaths:
    """``always_protect`` for asgi-csrf, which only asks ``path in always_protect``."""

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and is_protected(path)


def csrf_token(request: Request) -> str:
    """The token for a form's hidden ``csrftoken`` field (the answer then sets the cookie)."""
    get_token: Callable[[], str] = request.scope[COOKIE]
    return get_token()


def is_one_click(request: Request) -> bool:
    """True for an RFC 8058 one-click POST (decided by the guard before the CSRF check)."""
    state = request.scope.get(STATE_KEY)
    return isinstance(state, GuardState) and state.one_click


async def _send_failed(scope: Scope, send: Send, _reason: Any) -> None:
    response = error_response(Request(scope), 403, headers={"cache-control": "no-store"})
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


class CsrfGuard:
    """ASGI middleware around the app: asgi-csrf for the protected forms, as documented above."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.protected = asgi_csrf(
            self._reach_app,
            cookie_name=COOKIE,
            signing_secret=derive_key(settings, "csrf").hex(),
            always_protect=_ProtectedPaths(),
            skip_if_scope=lambda scope: scope[STATE_KEY].one_click,
            cookie_secure=settings.base_url.startswith("https://"),
            cookie_samesite="Lax",
            send_csrf_failed=_send_failed,
        )

    async def _reach_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: GuardState = scope[STATE_KEY]
        state.reached_app = True
        if state.original is not None:  # asgi-csrf checked a stand-in: the app gets the real one
            headers, receive = state.original
            scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if method not in ("GET", "HEAD", "POST") or (
                method == "POST" and not is_protected(path)):
            await self.app(scope, receive, send)
            return
        state = GuardState()
        scope = {**scope, STATE_KEY: state}
        started = False

        async def send_http_only(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    (name, value + b"; HttpOnly"
                     if name == b"set-cookie" and value.startswith(COOKIE.encode() + b"=")
                     else value)
                    for name, value in message.get("headers", [])]
            await send(message)

        try:
            checked, checked_receive = scope, receive
            if method == "POST":
                receive, body = await self._read_body(scope, receive, state)
                checked_receive = receive
                if is_multipart(scope):
                    token = multipart_token(Headers(scope=scope)["content-type"].encode(), body)
                    checked, checked_receive = stand_in(scope, token)
                    state.original = (scope["headers"], receive)
            if state.one_click:
                # Exempt (asgi-csrf would skip it too), and its answer sets no cookie: straight
                # to the app, without minting a token nobody uses (the busiest POST).
                await self._reach_app(scope, receive, send)
                return
            await self.protected(checked, checked_receive, send_http_only)
        except HTTPException as exc:  # the body limit, while the body was read here
            if started or state.reached_app:
                raise
            await error_response(Request(scope), exc.status_code)(scope, receive, send)
        except Exception:
            # asgi-csrf parses the body itself and trips over malformed ones (a multipart
            # type without a boundary, bytes that are not UTF-8): that is a bad request.
            if started or state.reached_app:
                raise
            await error_response(Request(scope), 400)(scope, receive, send)

    @staticmethod
    async def _read_body(scope: Scope, receive: Receive,
                         state: GuardState) -> tuple[Callable[[], Awaitable[Message]], bytes]:
        """Read the whole body (the BodyLimit middleware caps it) to replay it afterwards,
        and return it; on the one-click path, note whether it is an RFC 8058 one-click post."""
        messages: list[Message] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise HTTPException(400)
            messages.append(message)
            if not message.get("more_body", False):
                break
        # Joined once: an upload of 20 MB arrives in hundreds of chunks.
        body = b"".join(message.get("body", b"") for message in messages)

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        if scope["path"].startswith(ONE_CLICK_PREFIX) and body == ONE_CLICK_BODY and (
                Headers(scope=scope).get("content-type", "").startswith(URLENCODED)):
            # What mail services send (RFC 8058): no need to parse it as a form.
            state.one_click = True
        elif scope["path"].startswith(ONE_CLICK_PREFIX) and b"One-Click" in body:
            async def once() -> Message:
                return {"type": "http.request", "body": body, "more_body": False}

            form = await Request(scope, once).form()
            state.one_click = (form.get("List-Unsubscribe") == "One-Click"
                               and FIELD not in form)
        return replay, body
