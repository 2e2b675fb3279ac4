"""RFC 8058 one-click, answered before the middleware stack: the web app's busiest request.

A mail provider posts ``List-Unsubscribe=One-Click`` to ``/uitschrijven/<token>`` for every
reader who clicks "unsubscribe" in Gmail or Yahoo, all at once after a send. Through Starlette's
router, the per-IP limits, the CSRF guard, the admin session switch and the exception
middleware, every layer of which only passes it on, such a request cost half its time before
the subscriber operation ran. Here the exact request (a POST to one token, the urlencoded body
``List-Unsubscribe=One-Click`` and nothing more) is answered directly: the same ``unsubscribe``
through the write queue, the same page rendered once, the same security headers.

Whatever is not exactly that, or does not end in success (a forged, expired or erased link, a
database that fails), goes on to the full app with its body, which answers it as it answers
every request: the Dutch page for the link, the 503 page. Those run the operation a second
time, which changes nothing twice: a token that failed fails again, an unsubscribe is
idempotent. The per-IP limits never count one-click posts and its answer sets no cookie, so
nothing is skipped that would have applied (``tests/test_web_oneclick.py`` compares the two
answers).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digiweetjes.web.context import WebContext
from digiweetjes.web.middleware import SECURITY_HEADERS
from digiweetjes.web.public.csrf import ONE_CLICK_BODY, ONE_CLICK_PREFIX, URLENCODED
from digiweetjes.web.public.pages import NO_STORE
from digiweetjes.web.public.unsubscribe import unsubscribe_by_link

#: The answer page's template and values, as ``unsubscribe_post`` renders it for one-click.
DONE_PAGE = ("unsubscribe.html.j2", {"state": "done", "one_click": True})


class OneClickFastPath:
    """ASGI middleware, the outermost of the app's own (see the module)."""

    def __init__(self, app: ASGIApp, context: WebContext) -> None:
        self.app = app
        self.context = context
        self._answer: tuple[list[tuple[bytes, bytes]], bytes] | None = None

    def _matches(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST":
            return False
        path: str = scope["path"]
        if not path.startswith(ONE_CLICK_PREFIX) or "/" in path[len(ONE_CLICK_PREFIX):] \
                or len(path) == len(ONE_CLICK_PREFIX):
            return False
        length = kind = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                kind = value
        return (length == str(len(ONE_CLICK_BODY)).encode() and kind is not None
                and kind.split(b";")[0].strip().lower() == URLENCODED.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._matches(scope):
            await self.app(scope, receive, send)
            return
        message = await receive()
        body = message.get("body", b"") if message["type"] == "http.request" else None
        if body != ONE_CLICK_BODY or message.get("more_body", False):
            await self.app(scope, _replay(message, receive), send)
            return
        client = scope.get("client")
        try:
            await unsubscribe_by_link(self.context, scope["path"][len(ONE_CLICK_PREFIX):],
                                      client[0] if client else None)
        except Exception:  # the full app answers it (and says why, in Dutch)
            await self.app(scope, _replay(message, receive), send)
            return
        headers, page = self._done_answer()
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": page})

    def _done_answer(self) -> tuple[list[tuple[bytes, bytes]], bytes]:
        if self._answer is None:
            template, values = DONE_PAGE
            page = self.context.constant_page(template, **values).encode("utf-8")
            headers = [(b"content-type", b"text/html; charset=utf-8"),
                       (b"content-length", str(len(page)).encode()),
                       *((k.encode(), v.encode()) for k, v in NO_STORE.items()),
                       *SECURITY_HEADERS]
            self._answer = (headers, page)
        return self._answer


def _replay(first: Message, receive: Receive) -> Receive:
    """``receive`` with the message already read put back in front."""
    pending = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
