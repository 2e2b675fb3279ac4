"""The forms of an issue's page: approve, schedule, unschedule, a test mail to oneself.

Each calls the function the CLI calls (``approve``, ``schedule_issue``, ``unschedule``,
``test_send_many``) and writes its audit line in the same transaction as the change (the
release functions run ``record`` inside theirs). A refusal (the gate fails, a time in the past,
an address that is not one) shows the issue page again with the reason, as a 400; a form that
worked answers 303 back to the page with a notice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digiweetjes.errors import (
    ConfigError,
    ContentError,
    ProviderError,
    ReleaseError,
    RenderError,
    SendingError,
)
from digiweetjes.models import Role
from digiweetjes.release import approve, schedule_issue, unschedule
from digiweetjes.release.localtime import brussels_moment
from digiweetjes.release.overview import draft_exists
from digiweetjes.release.records import get_row
from digiweetjes.release.wording import moment
from digiweetjes.sending import service
from digiweetjes.users import AdminUser
from digiweetjes.web.admin.auth import admin_error, audit, requires
from digiweetjes.web.admin.issue_view import NOT_FOUND
from digiweetjes.web.public.pages import context_of, in_transaction, see_other

ShowIssue = Callable[..., Awaitable[Response]]
#: What the domain refuses with a reason a person can act on (shown on the page, 400).
REFUSALS = (ReleaseError, ContentError, RenderError, SendingError, ConfigError)
SCHEDULE_FIELD = "tijdstip"
ADDRESS_FIELD = "adres"
#: The longest form field read (an address, a date-time); the body limit caps the rest.
MAX_FIELD = 400


def _reason(exc: Exception) -> str:
    # The domain names the CLI's options; on this page the field is "Tijdstip" / "Adres".
    text = str(exc)
    for option, field in (("--at: ", "Tijdstip: "), ("--to: ", "Adres: ")):
        text = text.replace(option, field)
    return text


async def _field(request: Request, name: str) -> str:
    form = await request.form()
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def routes(base: str, show_issue: ShowIssue) -> list[BaseRoute]:
    """The POST routes below ``base/<issue id>``; a refusal is shown by ``show_issue``."""

    async def refuse(request: Request, user: AdminUser, exc: Exception,
                     values: dict[str, str] | None = None) -> Response:
        return await show_issue(request, user, status=400, error=_reason(exc), values=values)

    async def draft_of(request: Request) -> str | None:
        """The issue id of the path if its draft exists (what every form acts on)."""
        context = context_of(request)
        issue_id = request.path_params["issue_id"]
        if await run_in_threadpool(draft_exists, context.settings, issue_id):
            return issue_id
        return None

    def done(issue_id: str, notice: str) -> Response:
        return see_other(f"{base}/{issue_id}?melding={notice}")

    @requires(Role.EDITOR)
    async def approve_post(request: Request, user: AdminUser) -> Response:
        """POST: approve the issue's current content in the user's name."""
        context = context_of(request)
        issue_id = await draft_of(request)
        if issue_id is None:
            return admin_error(request, user, 404, NOT_FOUND)

        def record(session: Session) -> None:
            row = get_row(session, issue_id)
            digest = row.content_hash if row and row.content_hash else "?"
            audit(session, context.clock, user, "issue.approve",
                  f"{issue_id}, inhoud {digest[:12]}")

        try:
            await run_in_threadpool(lambda: approve(
                context.db, context.settings, context.clock, issue_id, by=user.name,
                record=record))
        except REFUSALS as exc:
            return await refuse(request, user, exc)
        return done(issue_id, "goedgekeurd")

    @requires(Role.EDITOR)
    async def schedule_post(request: Request, user: AdminUser) -> Response:
        """POST: schedule the approved issue at a Brussels time (``tijdstip``)."""
        context = context_of(request)
        issue_id = await draft_of(request)
        if issue_id is None:
            return admin_error(request, user, 404, NOT_FOUND)
        text = (await _field(request, SCHEDULE_FIELD)).strip()
        values = {SCHEDULE_FIELD: text}
        try:
            if not text:
                raise ReleaseError("Tijdstip: vul een datum en een uur in (Brusselse tijd)")
            at = brussels_moment(text, field="Tijdstip")

            def record(session: Session) -> None:
                audit(session, context.clock, user, "issue.schedule",
                      f"{issue_id}, op {moment(at)}")

            await run_in_threadpool(lambda: schedule_issue(
                context.db, context.settings, context.clock, issue_id, at, record=record))
        except REFUSALS as exc:
            return await refuse(request, user, exc, values)
        return done(issue_id, "ingepland")

    @requires(Role.EDITOR)
    async def unschedule_post(request: Request, user: AdminUser) -> Response:
        """POST: take the issue off the schedule; it stays approved."""
        context = context_of(request)
        issue_id = await draft_of(request)
        if issue_id is None:
            return admin_error(request, user, 404, NOT_FOUND)

        def record(session: Session) -> None:
            audit(session, context.clock, user, "issue.unschedule", issue_id)

        try:
            await run_in_threadpool(lambda: unschedule(context.db, context.clock, issue_id,
                                                       record=record))
        except REFUSALS as exc:
            return await refuse(request, user, exc)
        return done(issue_id, "uitgepland")

    @requires(Role.EDITOR)
    async def test_mail_post(request: Request, user: AdminUser) -> Response:
        """POST: the issue to one address (``adres``), as `send --to`; the ledger untouched."""
        context = context_of(request)
        issue_id = await draft_of(request)
        if issue_id is None:
            return admin_error(request, user, 404, NOT_FOUND)
        address = (await _field(request, ADDRESS_FIELD)).strip()
        values = {ADDRESS_FIELD: address}

        def send() -> str:
            if "," in address or ";" in address:
                raise SendingError("Adres: geef één adres, het jouwe; er werd niets verstuurd")
            emails = service.test_addresses([address] if address else [])
            draft, compiled = service.load_issue(context.settings, issue_id)
            service.test_send_many(context.provider, compiled, context.settings, emails,
                                   draft=draft, clock=context.clock)
            return emails[0]

        try:
            email = await run_in_threadpool(send)
        except REFUSALS as exc:
            return await refuse(request, user, exc, values)
        except ProviderError as exc:  # already without secrets (test_send_many redacts)
            return await refuse(request, user, ProviderError(
                f"De provider nam de testmail niet aan: {exc}"), values)

        def record(session: Session) -> None:
            # An address is personal data: the log names its domain only.
            audit(session, context.clock, user, "issue.test-send",
                  f"{issue_id}, naar een adres bij {email.rpartition('@')[2]}")

        await in_transaction(request, record)
        return done(issue_id, "testmail")

    return [
        Route(f"{base}/{{issue_id}}/goedkeuren", approve_post, methods=["POST"]),
        Route(f"{base}/{{issue_id}}/inplannen", schedule_post, methods=["POST"]),
        Route(f"{base}/{{issue_id}}/uitplannen", unschedule_post, methods=["POST"]),
        Route(f"{base}/{{issue_id}}/testmail", test_mail_post, methods=["POST"]),
    ]
