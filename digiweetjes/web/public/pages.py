"""What the public routes share: the context, the client's IP, a page, a transaction, and the
Dutch pages for a link that does not work."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from digiweetjes.errors import TokenError
from digiweetjes.web.context import WebContext
from digiweetjes.web.errors import ErrorText

T = TypeVar("T")

#: Pages with a personal token, and answers to a form, are never stored by a cache or a
#: browser's history cache (a shared computer must not show someone's preferences).
NO_STORE = {"cache-control": "no-store"}

SIGNUP_PATH = "/inschrijven"


def context_of(request: Request) -> WebContext:
    """The app's collaborators."""
    context: WebContext = request.app.state.context
    return context


def client_ip(request: Request) -> str | None:
    """The visitor's IP address (uvicorn's proxy_headers puts it here behind a proxy); only its
    keyed hash reaches the consent ledger."""
    return request.client.host if request.client else None


def page(request: Request, template: str, *, status: int = 200, **values: object) -> HTMLResponse:
    """A page of ``templates/web/`` with the common context (and ``status``); never cached."""
    body = context_of(request).render(f"web/{template}", status=status, **values)
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


def constant_page(request: Request, template: str, **values: Hashable) -> HTMLResponse:
    """``page`` for a page that is the same for every visitor (``WebContext.constant_page``:
    rendered once per app and set of values, then served from memory)."""
    return HTMLResponse(context_of(request).constant_page(template, **values), headers=NO_STORE)


def see_other(path: str) -> RedirectResponse:
    """The answer to a form that worked: 303 to a page the browser may reload safely."""
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


async def in_transaction(request: Request, work: Callable[[Session], T], *,
                         write: bool = True) -> T:
    """``work(session)`` in one transaction, in a worker thread (the database is synchronous):
    committed when it returns, rolled back when it raises. ``write=False`` for a page that
    only reads (it need not wait for SQLite's write lock)."""
    context = context_of(request)

    def run() -> T:
        with context.db.session(write=write) as session:
            return work(session)

    return await (context.run_write(run) if write else run_in_threadpool(run))


_SIGN_UP_AGAIN = ("Schrijf je opnieuw in", SIGNUP_PATH)

#: TokenError.reason → (status, what the page says, an optional way on). None of them says
#: whether an address is on the list.
TOKEN_FAILURES: dict[str, tuple[int, ErrorText, tuple[str, str] | None]] = {
    "forged": (400, ErrorText("Deze link werkt niet", (
        "De link is onvolledig of gewijzigd. Dat gebeurt soms wanneer een lange link in een "
        "e-mail over twee regels wordt gesplitst.",
        "Kopieer de volledige link uit de e-mail en plak hem in de adresbalk van je browser.")),
        None),
    "expired": (410, ErrorText("Deze link is verlopen", (
        "Een bevestigingslink werkt zeven dagen, en niet meer nadat je je uitschreef.",
        "Schrijf je opnieuw in: je krijgt dan meteen een nieuwe link.")), _SIGN_UP_AGAIN),
    "gone": (410, ErrorText("Deze inschrijving bestaat niet meer", (
        "De inschrijving waar deze link bij hoort, is gewist of het e-mailadres is gewijzigd.",
        "Wil je Digi-weetjes (opnieuw) ontvangen? Schrijf je dan opnieuw in.")),
        _SIGN_UP_AGAIN),
}


def token_failure(request: Request, error: TokenError) -> HTMLResponse:
    """The Dutch page for a link that does not work (forged, expired or gone)."""
    status, text, action = TOKEN_FAILURES.get(error.reason, TOKEN_FAILURES["forged"])
    return page(request, "error.html.j2", status=status, title=text.title,
                paragraphs=text.paragraphs, action=action)
