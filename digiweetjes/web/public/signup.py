"""``/inschrijven``: the sign-up form, its answer, and the page that says to check the mailbox.

The answer to a valid form is always the same 303 to ``/inschrijven/verstuurd``, whether the
address is new, pending, already subscribed, suppressed or throttled: the page never tells who
is on the list (``subscribers.subscribe`` mails only the mailbox owner). A filled-in honeypot
gets that same answer and nothing is done.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from digiweetjes.errors import ProviderError, SubscriberError
from digiweetjes.subscribers import sign_up
from digiweetjes.web.errors import ErrorText, error_response
from digiweetjes.web.public.forms import FormResult, read_signup
from digiweetjes.web.public.pages import (
    NO_STORE,
    SIGNUP_PATH,
    client_ip,
    context_of,
    page,
    see_other,
)

log = logging.getLogger("digiweetjes.web")

SENT_PATH = f"{SIGNUP_PATH}/verstuurd"
#: The honeypot: hidden from people and assistive technology; only bots fill it in.
HONEYPOT = "website"

PROVIDER_DOWN = ErrorText("Je inschrijving lukte nu niet", (
    "We konden de e-mail om je inschrijving te bevestigen nu niet versturen. Er is niets "
    "bewaard.",
    "Probeer het over enkele minuten opnieuw."))


def _form_page(request: Request, result: FormResult | None, status: int = 200) -> Response:
    return page(request, "signup.html.j2", status=status,
                form_values=result.shown if result else {},
                form_errors=result.errors if result else {},
                error_list=result.error_list if result else [])


async def signup_form(request: Request) -> Response:
    """GET /inschrijven: the full form (with interests)."""
    return _form_page(request, None)


async def signup(request: Request) -> Response:
    """POST /inschrijven: check, subscribe (double opt-in), answer the same for everyone."""
    form = await request.form()
    honeypot = form.get(HONEYPOT)
    if honeypot:
        log.info("sign-up honeypot filled in; nothing done")
        return see_other(SENT_PATH)
    context = context_of(request)
    result = read_signup(form, context.settings)
    if result.errors:
        return _form_page(request, result, status=400)

    try:
        # Stored in one transaction, mailed after its commit (SQLite's write lock is not held
        # during the provider's call), withdrawn when the mail fails: ``sign_up``.
        # Its transactions go through the write queue (``web.writes``), on the loop.
        writes = context.write_queue.from_thread(asyncio.get_running_loop())
        await run_in_threadpool(
            sign_up, writes, context.provider, context.clock, context.settings,
            email=result.email, name=result.name, municipality=result.municipality,
            topics=result.topics, ip=client_ip(request))
    except ProviderError as exc:
        # Withdrawn: nothing of this request is stored.
        log.warning("sign-up not stored: the confirmation mail failed (%s)",
                    type(exc).__name__)
        return error_response(request, 503, PROVIDER_DOWN,
                              headers={**NO_STORE, "retry-after": "300"})
    except SubscriberError as exc:  # checked above; the domain's rules are the last word
        log.info("sign-up refused by the domain: %s", type(exc).__name__)
        result.errors["email"] = "Deze gegevens konden we niet verwerken. Kijk ze na."
        return _form_page(request, result, status=400)
    return see_other(SENT_PATH)


async def signup_sent(request: Request) -> Response:
    """GET /inschrijven/verstuurd: 'Kijk in je mailbox', the same for every address."""
    return page(request, "signup-sent.html.j2")
