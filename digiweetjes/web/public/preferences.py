"""``/voorkeuren/<token>``: a subscriber changes name, municipality and interests, or leaves.

The page shows the current choices; saving calls ``subscribers.update_preferences``. It also
offers unsubscribing: a form posting to the subscriber's own ``/uitschrijven/<token>``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from digiweetjes.errors import SubscriberError, TokenError
from digiweetjes.models import Subscriber, SubscriberStatus
from digiweetjes.subscribers import subscriber_for_token, update_preferences
from digiweetjes.subscribers.tokens import Purpose
from digiweetjes.web.public.csrf import csrf_token
from digiweetjes.web.public.forms import FormResult, read_preferences, shown_from
from digiweetjes.web.public.pages import client_ip, context_of, in_transaction, page, token_failure
from digiweetjes.web.public.paths import unsubscribe_path

RECEIVING = (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING)


def _current(request: Request, session: Session) -> tuple[Subscriber, str]:
    """The subscriber of the link and their unsubscribe path; TokenError if the link fails."""
    context = context_of(request)
    subscriber = subscriber_for_token(session, context.clock, context.settings,
                                      request.path_params["token"], Purpose.PREFERENCES)
    return subscriber, unsubscribe_path(context.settings, context.clock, subscriber)


def _form(request: Request, shown: dict[str, object], unsubscribe: str,
          result: FormResult | None = None, status: int = 200) -> Response:
    return page(request, "preferences.html.j2", status=status, state="form",
                action=request.url.path, csrftoken=csrf_token(request), form_values=shown,
                form_errors=result.errors if result else {},
                error_list=result.error_list if result else [], unsubscribe_action=unsubscribe)


async def preferences_help(request: Request) -> Response:
    """GET /voorkeuren: the page without a link's token: use the link in a mail."""
    return page(request, "preferences.html.j2", state="no-token")


async def preferences_page(request: Request) -> Response:
    """GET: the form with the subscriber's current choices."""

    def read(session: Session) -> tuple[dict[str, object], str, bool]:
        subscriber, unsubscribe = _current(request, session)
        shown = shown_from(subscriber.name, subscriber.municipality, list(subscriber.topics))
        return shown, unsubscribe, subscriber.status in RECEIVING

    try:
        shown, unsubscribe, receiving = await in_transaction(request, read, write=False)
    except TokenError as exc:
        return token_failure(request, exc)
    if not receiving:
        return page(request, "preferences.html.j2", state="closed")
    return _form(request, shown, unsubscribe)


async def preferences_post(request: Request) -> Response:
    """POST: save the choices, or show the form again with what is wrong."""
    context = context_of(request)
    result = read_preferences(await request.form(), context.settings)
    token = request.path_params["token"]

    def save(session: Session) -> tuple[dict[str, object], str]:
        subscriber, unsubscribe = _current(request, session)
        if subscriber.status not in RECEIVING:
            raise SubscriberError("preferences of a subscription that ended")
        if result.errors:
            return {}, unsubscribe
        subscriber = update_preferences(
            session, context.clock, context.settings, token, name=result.name,
            municipality=result.municipality, topics=result.topics, ip=client_ip(request))
        return shown_from(subscriber.name, subscriber.municipality,
                          list(subscriber.topics)), unsubscribe

    try:
        saved, unsubscribe = await in_transaction(request, save)
    except TokenError as exc:
        return token_failure(request, exc)
    except SubscriberError:  # the subscriber left (or was stopped) in the meantime
        return page(request, "preferences.html.j2", status=409, state="closed")
    if result.errors:
        return _form(request, result.shown, unsubscribe, result, status=400)
    return page(request, "preferences.html.j2", state="saved", saved=saved,
                back=request.url.path)
