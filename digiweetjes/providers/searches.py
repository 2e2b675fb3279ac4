"""The four provider searches behind ``providers.lookup``: one GET (or a few pages) per delivery.

Each function takes the provider's own adapter (for its client, credentials and error boundary:
``HttpProvider._get``, which answers the parsed JSON) and a ``lookup.Query``, and answers a
``lookup.Lookup``. A message found only counts when it carries our reference, whatever the
filter matched.
"""

from __future__ import annotations

from digiweetjes.errors import PermanentProviderError
from digiweetjes.providers.lookup import Lookup, Query
from digiweetjes.providers.mailgun import MailgunProvider
from digiweetjes.providers.mailjet import MailjetProvider
from digiweetjes.providers.postmark import PostmarkProvider
from digiweetjes.providers.sendgrid import SendGridProvider

#: Pages of one recipient's events read at most (Mailgun: 300 events a page).
MAILGUN_PAGES = 5
#: The user variable the Mailgun adapter sets (``v:digiweetjes-ref``).
MAILGUN_REF_VARIABLE = "digiweetjes-ref"


def postmark(provider: PostmarkProvider, query: Query) -> Lookup:
    """Outbound message search, ``GET /messages/outbound?count&offset&metadata_ref=REF``.

    ``count`` and ``offset`` are required; ``metadata_<key>`` filters on a Metadata value, and
    ``messagestream`` keeps the search in the stream we send to (postmarkapp.com/developer/api/
    messages-api, "Outbound message search"). One message carries one reference, so the first
    page is all there is.
    """
    body = provider._get("/messages/outbound", {
        "count": 50, "offset": 0, "metadata_ref": query.reference,
        "messagestream": provider.message_stream})
    for message in _list(body, "Messages"):
        if (message.get("Metadata") or {}).get("ref") == query.reference:
            return Lookup(query.reference, "accepted", message_id=message.get("MessageID"))
    return Lookup(query.reference, "not_found")


def mailgun(provider: MailgunProvider, query: Query) -> Lookup:
    """Events of the recipient, ``GET /v3/{domain}/events?event=accepted&recipient=ADDRESS``,
    matched on the ``user-variables`` every event carries (documentation.mailgun.com/docs/
    mailgun/api-reference/send/mailgun/events; ``recipient`` and ``event`` are documented
    filter fields, events are kept at least 3 days). Pages follow ``paging.next``.

    The events carry the message id without angle brackets; the send answer (what the ledger
    keeps) has them, so they are put back.
    """
    if not query.email:
        return Lookup(query.reference, "unknown",
                      reason="het adres is gewist: Mailgun kan alleen per adres bevraagd worden")
    params: dict[str, str | int] | None = {"event": "accepted", "recipient": query.email,
                                           "limit": 300}
    path = f"/v3/{provider.domain}/events"
    for _page in range(MAILGUN_PAGES):
        body = provider._get(path, params)
        items = _list(body, "items")
        for item in items:
            variables = item.get("user-variables") or {}
            if variables.get(MAILGUN_REF_VARIABLE) == query.reference:
                message_id = ((item.get("message") or {}).get("headers") or {}).get("message-id")
                return Lookup(query.reference, "accepted",
                              message_id=f"<{message_id}>" if message_id else None)
        next_url = ((body.get("paging") or {}).get("next") or "") if isinstance(body, dict) \
            else ""
        if not items or not next_url.startswith(provider.base_url + path):
            return Lookup(query.reference, "not_found")
        # The next page's URL names its own position; only its path is ours to request.
        path, params = next_url[len(provider.base_url):], None
    return Lookup(query.reference, "unknown",
                  reason=f"meer dan {MAILGUN_PAGES} pagina's gebeurtenissen voor dit adres")


def mailjet(provider: MailjetProvider, query: Query) -> Lookup:
    """The message resource, ``GET /v3/REST/message?CustomID=REF`` ({"Count", "Data":
    [{"ID", "CustomID", "Status"...}], "Total"}); its ``ID`` is the ``MessageID`` the send
    answered (dev.mailjet.com/email/reference/messages/ "message": filter ``CustomID``)."""
    body = provider._get("/v3/REST/message", {"CustomID": query.reference, "Limit": 10})
    for message in _list(body, "Data"):
        if message.get("CustomID") == query.reference:
            message_id = message.get("ID")
            return Lookup(query.reference, "accepted",
                          message_id=None if message_id is None else str(message_id))
    return Lookup(query.reference, "not_found")


def sendgrid(provider: SendGridProvider, query: Query) -> Lookup:
    """Email Activity, ``GET /v3/messages?limit&query=…`` (twilio.com/docs/sendgrid/api-
    reference/email-activity/filter-all-messages). A paid add-on: without it SendGrid answers
    403 (or 404), which makes the outcome unknown, not an error.

    The query names the recipient (``to_email``, documented) and our custom argument
    (``unique_args['ref']``: ``unique_args`` is a documented query type, the bracket form is
    *unverified*); a 400 for the query makes the outcome unknown too.
    """
    condition = f"unique_args['ref']=\"{query.reference}\""
    if query.email:
        condition = f"to_email=\"{query.email}\" AND {condition}"
    try:
        body = provider._get("/v3/messages", {"limit": 10, "query": condition})
    except PermanentProviderError as exc:
        if exc.status_code in (403, 404):
            return Lookup(query.reference, "unknown", reason=(
                "het SendGrid-account heeft geen Email Activity API (een betaalde uitbreiding) "
                f"of de sleutel mag die niet lezen (HTTP {exc.status_code})"))
        if exc.status_code == 400:
            return Lookup(query.reference, "unknown",
                          reason=f"SendGrid weigerde de zoekvraag: {exc}")
        raise
    for message in _list(body, "messages"):
        return Lookup(query.reference, "accepted", message_id=message.get("msg_id"))
    return Lookup(query.reference, "not_found")


def _list(body: object, key: str) -> list[dict]:
    """The list of objects under ``key``, or [] for any other shape."""
    items = body.get(key) if isinstance(body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

