"""``/bevestigen/<token>``: the double opt-in link.

GET only shows a button: mail scanners and link previews fetch every GET link in a mail, and
must not confirm anyone. The POST (with the CSRF token) confirms; confirming twice shows the
same page.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from digiweetjes.errors import TokenError
from digiweetjes.subscribers import confirm, subscriber_for_token
from digiweetjes.subscribers.tokens import Purpose
from digiweetjes.web.public.csrf import csrf_token
from digiweetjes.web.public.pages import client_ip, context_of, in_transaction, page, token_failure
from digiweetjes.web.public.paths import preferences_path


async def confirm_page(request: Request) -> Response:
    """GET: check the link (nothing changes) and show the confirm button."""
    context = context_of(request)
    token = request.path_params["token"]

    def check(session: Session) -> None:
        subscriber_for_token(session, context.clock, context.settings, token, Purpose.CONFIRM)

    try:
        await in_transaction(request, check, write=False)
    except TokenError as exc:
        return token_failure(request, exc)
    return page(request, "confirm.html.j2", state="ask", action=request.url.path,
                csrftoken=csrf_token(request))


async def confirm_post(request: Request) -> Response:
    """POST: confirm the subscription; the page links to the subscriber's preferences."""
    context = context_of(request)
    token = request.path_params["token"]

    def work(session: Session) -> str:
        subscriber = confirm(session, context.clock, context.settings, token,
                             ip=client_ip(request))
        return preferences_path(context.settings, context.clock, subscriber)

    try:
        preferences = await in_transaction(request, work)
    except TokenError as exc:
        return token_failure(request, exc)
    return page(request, "confirm.html.j2", state="done", preferences_link=preferences)
