"""``/beheer/nummers``: the issues for editors: the list, one issue's page (release gate,
preview at phone and desktop width, approval, schedule, test mail, delivery status), and the
preview itself (``voorbeeld.html``), a page of its own so that it keeps its styles.

The forms post to ``issue_actions``. An issue is named by its id (``<date>-<slug>``) only, never
by a path: ``release.overview.known_issue`` checks it before anything reads a file.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from digiweetjes.errors import DigiweetjesError
from digiweetjes.models import Role
from digiweetjes.release.approval import compile_current
from digiweetjes.release.overview import draft_exists, known_issue, list_issues
from digiweetjes.release.wording import STATE_WORDS
from digiweetjes.render import personalize
from digiweetjes.site.preview import DEMO_NAME, demo_recipient
from digiweetjes.users import AdminUser
from digiweetjes.web.admin import issue_actions
from digiweetjes.web.admin.auth import admin_error, admin_page, requires
from digiweetjes.web.admin.issue_view import (
    DELIVERY_WORDS,
    NOT_FOUND,
    PREVIEW_WIDTHS,
    issue_view,
)
from digiweetjes.web.public.pages import NO_STORE, context_of

PAGE = ["GET", "HEAD"]
BASE = "/beheer/nummers"

#: ``?melding=`` after a form that worked → what the page says (fixed texts only).
NOTICES = {
    "goedgekeurd": "Goedgekeurd. Wie de editie, de sjablonen of projects.yaml nog wijzigt, "
                   "maakt deze goedkeuring ongeldig.",
    "ingepland": "Ingepland.",
    "uitgepland": "Niet meer ingepland; de editie blijft goedgekeurd.",
    "testmail": "De testmail is verstuurd. De lijst van verzendingen is niet aangeraakt.",
}

#: The preview is mail HTML: inline styles are its nature, scripts are never allowed, and it
#: may be framed by these pages only (the app's own CSP forbids every frame).
PREVIEW_CSP = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
               "frame-ancestors 'self'; form-action 'none'; base-uri 'none'; sandbox")


def issue_path(issue_id: str) -> str:
    return f"{BASE}/{issue_id}"


@requires(Role.EDITOR)
async def issue_list(request: Request, user: AdminUser) -> Response:
    """GET: every issue with its state, date and number."""
    context = context_of(request)
    lines = await run_in_threadpool(list_issues, context.db, context.settings)
    return admin_page(request, user, "issues.html.j2", issues=lines, states=STATE_WORDS,
                      base=BASE)


@requires(Role.EDITOR)
async def issue_page(request: Request, user: AdminUser) -> Response:
    """GET: one issue (``?pagina=`` pages through its failed and uncertain deliveries)."""
    return await show_issue(request, user)


async def show_issue(request: Request, user: AdminUser, *, status: int = 200,
                     error: str | None = None, values: dict[str, str] | None = None) -> Response:
    """The issue page; with ``error`` (and the form's ``values``) after a refused action."""
    context = context_of(request)
    issue_id = request.path_params["issue_id"]
    if not await run_in_threadpool(known_issue, context.db, context.settings, issue_id):
        return admin_error(request, user, 404, NOT_FOUND)
    try:
        page = int(request.query_params.get("pagina", "1"))
    except ValueError:
        page = 1
    view = await run_in_threadpool(lambda: issue_view(
        context, issue_id, page=page, show_addresses=user.may(Role.ADMIN)))
    notice = NOTICES.get(request.query_params.get("melding", "")) if error is None else None
    return admin_page(request, user, "issue.html.j2", status=status, view=view,
                      states=STATE_WORDS, base=BASE, path=issue_path(issue_id),
                      widths=PREVIEW_WIDTHS, demo_name=DEMO_NAME, notice=notice,
                      error=error, values=values or {}, delivery_words=DELIVERY_WORDS)


@requires(Role.EDITOR)
async def preview(request: Request, user: AdminUser) -> Response:
    """GET: the issue's HTML mail as a fictional reader gets it, for the page's frames."""
    context = context_of(request)
    settings = context.settings
    issue_id = request.path_params["issue_id"]
    if not await run_in_threadpool(draft_exists, settings, issue_id):
        return admin_error(request, user, 404, NOT_FOUND)

    def render() -> tuple[int, str]:
        try:
            compiled = compile_current(settings, issue_id)[1]
        except DigiweetjesError:
            # The issue page lists why (the gate); the frame only says that it cannot show it.
            return 422, context.render("web/admin/preview-error.html.j2")
        return 200, personalize(compiled, demo_recipient(settings)).html

    status, body = await run_in_threadpool(render)
    headers = {**NO_STORE, "content-security-policy": PREVIEW_CSP,
               "x-frame-options": "SAMEORIGIN"}
    return HTMLResponse(body, status_code=status, headers=headers)


def routes() -> list[BaseRoute]:
    return [
        Route(BASE, issue_list, methods=PAGE),
        Route(BASE + "/{issue_id}", issue_page, methods=PAGE),
        Route(BASE + "/{issue_id}/voorbeeld.html", preview, methods=PAGE),
        *issue_actions.routes(BASE, show_issue),
    ]
