"""The Dutch error pages, and the handlers that turn every failure into one.

No traceback ever reaches a visitor: an unexpected exception is logged (for developers, in
English) and the visitor gets a short Dutch page with the status code. Webhook callers (machines)
get a short plain-text answer instead of a page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from digiweetjes.errors import StorageError

log = logging.getLogger("digiweetjes.web")


@dataclass(frozen=True)
class ErrorText:
    """What an error page says: a title and one or more paragraphs."""

    title: str
    paragraphs: tuple[str, ...]


STATUS_TEXTS: dict[int, ErrorText] = {
    400: ErrorText("Dit verzoek klopt niet", (
        "De gegevens die je browser stuurde, konden we niet lezen.",
        "Probeer het opnieuw vanaf de pagina waar je vandaan kwam.")),
    403: ErrorText("Dit mag niet", (
        "Je browser stuurde dit formulier zonder het juiste veiligheidskenmerk, bijvoorbeeld "
        "omdat de pagina te lang openstond of cookies uitgeschakeld zijn.",
        "Laad de pagina opnieuw en verstuur het formulier nog eens.")),
    404: ErrorText("Deze pagina bestaat niet", (
        "Misschien is de link onvolledig of is de pagina verhuisd.",
        "In het archief vind je alle verschenen Digi-weetjes.")),
    405: ErrorText("Zo kan deze pagina niet gebruikt worden", (
        "Deze pagina kan niet op deze manier opgevraagd worden.",
        "Ga terug en gebruik de knop of de link op de pagina.")),
    413: ErrorText("Dit is te veel gegevens", (
        "Wat je browser stuurde, is groter dan dit formulier aanneemt.",
        "Kort je invoer in en probeer het opnieuw.")),
    429: ErrorText("Even geduld", (
        "Er kwamen in korte tijd te veel verzoeken van jouw internetverbinding.",
        "Wacht even en probeer het daarna opnieuw.")),
    500: ErrorText("Er ging iets mis", (
        "Door een fout aan onze kant lukte dit niet. Er is niets veranderd.",
        "Probeer het later opnieuw. Blijft het misgaan, mail ons dan.")),
    503: ErrorText("Even niet beschikbaar", (
        "De dienst is tijdelijk niet bereikbaar. Er is niets veranderd.",
        "Probeer het over enkele minuten opnieuw.")),
}


#: Paths whose last segment is a personal link token: never written to a log.
TOKEN_PATHS = ("/bevestigen/", "/voorkeuren/", "/uitschrijven/")


def loggable_path(path: str) -> str:
    """``path`` as a log may show it: a link token replaced by "…" (it unsubscribes someone)."""
    for prefix in TOKEN_PATHS:
        if path.startswith(prefix) and len(path) > len(prefix):
            return prefix + "…"
    return path


def _is_machine(request: Request) -> bool:
    return request.url.path.startswith("/webhooks/")


def error_response(request: Request, status: int, text: ErrorText | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """The Dutch error page for ``status`` (or a plain answer for a webhook caller)."""
    text = text or STATUS_TEXTS.get(status) or STATUS_TEXTS[500 if status >= 500 else 400]
    if _is_machine(request):
        return PlainTextResponse(f"{status} {text.title}\n", status_code=status,
                                 headers=headers)
    context = request.app.state.context
    try:
        body = context.render("web/error.html.j2", status=status, title=text.title,
                              paragraphs=text.paragraphs)
    except Exception:  # a broken template must not hide the error it was reporting
        log.exception("error page template failed")
        body = (f"<!DOCTYPE html><html lang=\"nl-BE\"><meta charset=\"utf-8\"><title>"
                f"{text.title}</title><h1>{text.title}</h1><p>{' '.join(text.paragraphs)}</p>")
    return HTMLResponse(body, status_code=status, headers=headers)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    return error_response(request, exc.status_code, headers=headers or None)


async def storage_error(request: Request, exc: Exception) -> Response:
    log.error("database unavailable: %s", exc)
    return error_response(request, 503)


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, loggable_path(request.url.path),
              exc_info=(type(exc), exc, exc.__traceback__))
    return error_response(request, 500)


EXCEPTION_HANDLERS = {
    HTTPException: http_exception,
    StorageError: storage_error,
    Exception: server_error,
}
