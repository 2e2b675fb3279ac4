"""The public pages: sign-up, confirm, preferences, unsubscribe (page and RFC 8058 one-click),
privacy. Dutch, server-rendered from ``templates/web/``, usable without JavaScript.

The routes call the subscriber operations (``subscribe``, ``confirm``, ``update_preferences``,
``unsubscribe``) in one transaction each; no subscriber logic lives here.

- ``signup``: ``/inschrijven`` (form, answer, ``/inschrijven/verstuurd``);
- ``confirm``, ``preferences``, ``unsubscribe``: the pages behind the links in mails;
- ``privacy``: ``/privacy``, the notice of the version in use;
- ``forms``: reading the forms, with a Dutch message per field;
- ``csrf``: asgi-csrf for the forms behind a link, and who is exempt (one-click, sign-up);
- ``ratelimit``: per-IP limits with ``limits`` (pages a minute, sign-ups an hour);
- ``pages``, ``paths``: what the routes share (a page, a transaction, token failures, paths).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digiweetjes.config import Settings
from digiweetjes.web.public.confirm import confirm_page, confirm_post
from digiweetjes.web.public.csrf import CsrfGuard
from digiweetjes.web.public.preferences import preferences_help, preferences_page, preferences_post
from digiweetjes.web.public.privacy import notice_template, privacy
from digiweetjes.web.public.ratelimit import RateLimit
from digiweetjes.web.public.signup import signup, signup_form, signup_sent
from digiweetjes.web.public.unsubscribe import unsubscribe_help, unsubscribe_page, unsubscribe_post

PAGE = ["GET", "HEAD"]
FORM = ["GET", "HEAD", "POST"]
Endpoint = Callable[[Request], Awaitable[Response]]


def _by_method(show: Endpoint, post: Endpoint) -> Endpoint:
    """One endpoint for a page and its form, so a wrong method's 405 lists all that work."""

    async def endpoint(request: Request) -> Response:
        return await (post(request) if request.method == "POST" else show(request))

    endpoint.__name__ = post.__name__
    return endpoint


def routes() -> list[BaseRoute]:
    """The public pages' routes."""
    return [
        Route("/inschrijven", _by_method(signup_form, signup), methods=FORM),
        Route("/inschrijven/verstuurd", signup_sent, methods=PAGE),
        Route("/bevestigen/{token}", _by_method(confirm_page, confirm_post), methods=FORM),
        Route("/voorkeuren", preferences_help, methods=PAGE),
        Route("/voorkeuren/{token}", _by_method(preferences_page, preferences_post),
              methods=FORM),
        Route("/uitschrijven", unsubscribe_help, methods=PAGE),
        Route("/uitschrijven/{token}", _by_method(unsubscribe_page, unsubscribe_post),
              methods=FORM),
        Route("/privacy", privacy, methods=PAGE),
    ]


def middleware(settings: Settings) -> list[Middleware]:
    """The public pages' middleware, outermost first: per-IP limits, then CSRF. Checks the
    settings the pages need (the privacy notice of the version in use) before anything runs."""
    notice_template(settings)
    return [Middleware(RateLimit, options=settings.web),
            Middleware(CsrfGuard, settings=settings)]
