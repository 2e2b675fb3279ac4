"""The endpoint ``POST /webhooks/<provider>``: authenticate, parse, apply, answer.

Answers are for machines (plain text): 200 with a one-line summary once the events are
applied, also when none of them concerned anyone we know (a provider must not retry those for
ever); 401 when the request is not proven to come from the provider (nothing is read further,
nothing stored); 400 for an authentic body that is not the provider's payload; 404 for an
unknown provider; 405 for another method; 413 for a body over
``DIGIWEETJES_WEBHOOK_MAX_BYTES`` (the app's ``BodyLimit``); 503 when the database cannot be
used, so the provider retries later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import ModuleType

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from digiweetjes.errors import WebhookAuthError, WebhookPayloadError
from digiweetjes.feedback import FeedbackReport, ProviderEvent, apply_events
from digiweetjes.web.context import WebContext
from digiweetjes.web.webhooks import brevo, mailgun, mailjet, postmark, resend, sendgrid
from digiweetjes.web.webhooks.once import UsedOnce

log = logging.getLogger("digiweetjes.web.webhooks")

PROVIDERS: dict[str, ModuleType] = {
    module.NAME: module for module in (brevo, mailgun, mailjet, postmark, resend, sendgrid)}


def endpoint() -> Callable[[Request], Awaitable[Response]]:
    """The endpoint, with its own memory of used one-time values (one per app)."""
    used = UsedOnce()

    async def receive(request: Request) -> Response:
        name = request.path_params["provider"]
        module = PROVIDERS.get(name)
        if module is None:
            raise HTTPException(404)
        if request.method != "POST":
            raise HTTPException(405, headers={"allow": "POST"})
        context: WebContext = request.app.state.context
        body = await request.body()
        headers = {key.lower(): value for key, value in request.headers.items()}
        query = dict(request.query_params.items())
        now = context.clock.now()
        try:
            once = module.verify(headers, query, body, context.settings, now)
            if once is not None and used.seen(f"{name}:{once}", now):
                raise WebhookAuthError(f"{name}: this signature was used before: a replay")
        except WebhookAuthError as exc:
            log.warning("webhook %s refused (401): %s", name, exc)
            return PlainTextResponse("401 not authenticated\n", status_code=401)
        try:
            events = module.parse(body, headers.get("content-type", ""), headers)
        except WebhookPayloadError as exc:
            log.warning("webhook %s refused (400): %s", name, exc)
            return PlainTextResponse(f"400 {exc}\n", status_code=400)
        report = await run_in_threadpool(_apply, context, events)
        if once is not None:
            lasting = timedelta(seconds=2 * context.settings.web.webhook_max_age_seconds)
            used.use(f"{name}:{once}", now, lasting)
        log.info("webhook %s: %s", name, report.summary())
        return PlainTextResponse(report.summary() + "\n")

    return receive


def _apply(context: WebContext, events: list[ProviderEvent]) -> FeedbackReport:
    """One transaction; tried twice when a concurrent request added the same row first."""
    for attempt in (1, 2):
        try:
            with context.db.session(write=True) as session:
                return apply_events(session, context.clock, context.settings, events)
        except IntegrityError:
            # Two webhooks about one unknown address at once both suppress it: the second
            # transaction is rolled back whole and, run again, finds the first one's row.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")

