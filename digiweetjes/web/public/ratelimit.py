"""Per-IP rate limits of the public pages, with the maintained ``limits`` package.

Two limits (``Settings.web``; 0 turns one off): ``requests_per_ip_per_minute`` for every public
page (not the unsubscribe POST, see ``UNLIMITED_POSTS``), and ``signups_per_ip_per_hour`` for
the sign-up form's POST on top of it. A moving window in memory, per process: behind several
web processes each keeps its own count, so the effective limit is that many times higher; good
enough against a script hammering one process, and the sign-up is further guarded by the
honeypot, the per-address mail throttle and double opt-in.

The client is ``scope["client"]``: behind a reverse proxy, uvicorn's ``--proxy-headers`` (with
``--forwarded-allow-ips``) puts the visitor's address there from X-Forwarded-For.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from digiweetjes.web.errors import ErrorText, error_response
from digiweetjes.web.options import WebOptions
from digiweetjes.web.public.pages import SIGNUP_PATH

#: Paths no visitor reads as a page: machines (webhooks, health checks) and the stylesheet
#: every page loads, and the admin pages' own (counting them would halve the page budget).
UNLIMITED_PREFIXES = ("/webhooks/", "/healthz", "/style.css", "/beheer/stijl.css")
#: RFC 8058 one-click posts come from the mail providers' servers, for many recipients from a
#: few addresses (a send's worth of Gmail unsubscribes): never refused for their number. The
#: signed token in the path is what they need; a forged one costs a signature check.
UNLIMITED_POSTS = ("/uitschrijven/",)

SIGNUP_TEXT = ErrorText("Even geduld", (
    "Vanaf jouw internetverbinding kwamen het afgelopen uur te veel inschrijvingen binnen.",
    "Probeer het over een uur opnieuw. Lukt het dan nog niet, mail ons dan."))


@dataclass(frozen=True)
class _Limit:
    item: RateLimitItem
    #: Retry-After: a full window is the one wait after which a retry surely passes (the
    #: oldest counted request has left the window); no clock is read to be more precise.
    retry_after: int
    text: ErrorText | None


def _limit(amount: float, per_hour: bool, text: ErrorText | None = None) -> _Limit | None:
    if amount <= 0:
        return None
    count = max(1, int(amount))
    if per_hour:
        return _Limit(RateLimitItemPerHour(count), 3600, text)
    return _Limit(RateLimitItemPerMinute(count), 60, text)


class RateLimit:
    """ASGI middleware: 429 with a Dutch page and Retry-After when an IP address is over a
    limit; the request then never reaches the app (nothing is read or written)."""

    def __init__(self, app: ASGIApp, options: WebOptions) -> None:
        self.app = app
        self.pages = _limit(options.requests_per_ip_per_minute, per_hour=False)
        self.signups = _limit(options.signups_per_ip_per_hour, per_hour=True, text=SIGNUP_TEXT)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def _exceeded(self, scope: Scope) -> _Limit | None:
        path: str = scope["path"]
        if path.startswith(UNLIMITED_PREFIXES) or (
                scope["method"] == "POST" and path.startswith(UNLIMITED_POSTS)):
            return None
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        if self.pages is not None and not self.limiter.hit(self.pages.item, "page", ip):
            return self.pages
        if (self.signups is not None and scope["method"] == "POST" and path == SIGNUP_PATH
                and not self.limiter.hit(self.signups.item, "signup", ip)):
            return self.signups
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exceeded = self._exceeded(scope)
        if exceeded is None:
            await self.app(scope, receive, send)
            return
        response = error_response(Request(scope), 429, exceeded.text,
                                  headers={"retry-after": str(exceeded.retry_after),
                                           "cache-control": "no-store"})
        await response(scope, receive, send)
