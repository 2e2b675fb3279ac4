"""``/uitschrijven/<token>``: the unsubscribe page, and RFC 8058 one-click.

- GET shows a button (a mail scanner's GET must not unsubscribe anyone);
- POST from that page (with the CSRF token) unsubscribes and says so;
- POST with the body ``List-Unsubscribe=One-Click`` (what ``List-Unsubscribe-Post`` in every
  mail asks for; sent by the mail provider, without cookies) unsubscribes at once: 200, a short
  page, no cookie, no redirect. Repeating either is harmless: still 200.
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from digiweetjes.errors import TokenError
from digiweetjes.models import SubscriberStatus
from digiweetjes.subscribers import subscriber_for_token, unsubscribe
from digiweetjes.subscribers.tokens import Purpose
from digiweetjes.web.context import WebContext
from digiweetjes.web.public.csrf import csrf_token, is_one_click
from digiweetjes.web.public.pages import (
    client_ip,
    constant_page,
    context_of,
    in_transaction,
    page,
    token_failure,
)

RECEIVING = (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING)


async def unsubscribe_help(request: Request) -> Response:
    """GET /uitschrijven: how to unsubscribe without the link (the link in a mail, or mail us)."""
    mailto = context_of(request).settings.unsubscribe_mailto
    return page(request, "unsubscribe.html.j2", state="no-token", mailto=mailto)


async def unsubscribe_page(request: Request) -> Response:
    """GET: check the link (nothing changes) and show the button, or that it is done."""
    context = context_of(request)

    def receiving(session: Session) -> bool:
        subscriber = subscriber_for_token(session, context.clock, context.settings,
                                          request.path_params["token"], Purpose.UNSUBSCRIBE)
        return subscriber.status in RECEIVING

    try:
        still_receiving = await in_transaction(request, receiving, write=False)
    except TokenError as exc:
        return token_failure(request, exc)
    if not still_receiving:
        return page(request, "unsubscribe.html.j2", state="done")
    return page(request, "unsubscribe.html.j2", state="ask", action=request.url.path,
                csrftoken=csrf_token(request))


async def unsubscribe_by_link(context: WebContext, token: str, ip: str | None) -> None:
    """The link's unsubscribe, through the write queue (also ``oneclick``'s fast path)."""

    def work(connection: Connection) -> None:
        # A Core connection, not a Session: this is the web's busiest write (one-click).
        unsubscribe(connection, context.clock, context.settings, token, ip=ip)

    await context.write(work)


async def unsubscribe_post(request: Request) -> Response:
    """POST: unsubscribe (the page's button, or one-click); the answer sets no cookie."""
    try:
        await unsubscribe_by_link(context_of(request), request.path_params["token"],
                                  client_ip(request))
    except TokenError as exc:
        return token_failure(request, exc)
    # The same page for everyone (nothing personal in it): rendered once.
    return constant_page(request, "unsubscribe.html.j2", state="done",
                         one_click=is_one_click(request))
