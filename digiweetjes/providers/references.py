"""Where each provider echoes a delivery's reference in its webhook events, and reading it back.

Every adapter gives each recipient's message its delivery reference (``Recipient.reference``;
for newsletter deliveries ``deliveries.reference``, see ``digiweetjes.sending.references``) in
the field the provider hands back in its webhook events. ``reference_from_event`` reads it from
one event, as the provider posts it (for batched webhooks: one element of the array).

=========  ===========================================  =======================================
provider   what the request carries (per recipient)     where the event has it
=========  ===========================================  =======================================
sendgrid   ``personalizations[].custom_args.ref``       ``ref`` at the top level of the event
                                                        (custom args are flattened into it)
mailgun    ``v:digiweetjes-ref = %recipient.dw_ref%``   ``event-data.user-variables
           (a custom variable filled from the            ["digiweetjes-ref"]``
           recipient variables)
postmark   ``Metadata.ref``                             ``Metadata.ref``
mailjet    ``CustomID``                                 ``CustomID``
brevo      ``messageVersions[].headers                  ``X-Mailin-custom`` at the top level
           ["X-Mailin-custom"]``                         of the event
resend     ``tags[{name: "ref", value}]`` (tag-safe,    ``data.tags.ref`` (an object of
           ``providers.messages.safe_tag_value``)       name → value)
outbox     ``X-Digiweetjes-Reference`` header of the    (no webhooks)
           ``.eml`` file
=========  ===========================================  =======================================

Sources: SendGrid Event Webhook reference (custom arguments appear in each event),
twilio.com/docs/sendgrid/for-developers/tracking-events/event; Mailgun "Attaching data to
messages" (``v:`` variables come back as ``user-variables``; a ``%recipient.x%`` inside one is
filled per recipient in batch sending, as django-anymail's merge metadata relies on: *unverified*
against a live account); Postmark webhooks (``Metadata`` in bounce, delivery and spam
complaint events), postmarkapp.com/developer/webhooks; Mailjet Event API (``CustomID`` when
provided at send time), dev.mailjet.com/email/guides/webhooks; Brevo transactional webhooks
(``X-Mailin-custom``: "custom added header"), developers.brevo.com/docs/transactional-webhooks;
Resend webhook event payloads (``data.tags``), resend.com/docs/webhooks.

Message ids. Besides the reference, the ledger keeps the provider's message id
(``deliveries.message_id``, indexed): Brevo (``message-id`` in events), Postmark (``MessageID``),
Mailjet (``MessageID``) and Resend (``data.email_id``) give one per recipient. SendGrid
(``X-Message-Id``, the prefix of each event's ``sg_message_id``) and Mailgun (the ``id`` of the
whole batch) give one id a request, stored on every row of the batch: there only the reference
names one delivery. A Brevo replay refused as a duplicate key stores no message id; the
delivery is still found by its reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from digiweetjes.providers.messages import decode_tag_value

#: The name under which the reference travels in custom args, metadata, variables and tags.
REFERENCE_KEY = "ref"
#: Mailgun's custom variable (``v:`` + this) carrying the reference.
MAILGUN_VARIABLE = "digiweetjes-ref"
#: Brevo's header that its webhook events echo.
BREVO_HEADER = "X-Mailin-custom"

#: What a reference can look like: ours are hex; service mails use letters, digits and dashes.
_REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,255}")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sendgrid(event: Mapping[str, Any]) -> object:
    return event.get(REFERENCE_KEY)


def _mailgun(event: Mapping[str, Any]) -> object:
    # A webhook posts {"signature": …, "event-data": {…}}; the Events API lists the inner part.
    data = _mapping(event.get("event-data", event))
    return _mapping(data.get("user-variables")).get(MAILGUN_VARIABLE)


def _postmark(event: Mapping[str, Any]) -> object:
    return _mapping(event.get("Metadata")).get(REFERENCE_KEY)


def _mailjet(event: Mapping[str, Any]) -> object:
    return event.get("CustomID")


def _brevo(event: Mapping[str, Any]) -> object:
    return event.get(BREVO_HEADER)


def _resend(event: Mapping[str, Any]) -> object:
    tags = _mapping(event.get("data")).get("tags")
    if isinstance(tags, list):  # the request's own shape, should an event ever use it
        tags = {t.get("name"): t.get("value") for t in tags if isinstance(t, Mapping)}
    value = _mapping(tags).get(REFERENCE_KEY)
    if not isinstance(value, str):
        return None
    try:
        return decode_tag_value(value)
    except (UnicodeDecodeError, ValueError):
        return None


_READERS: dict[str, Callable[[Mapping[str, Any]], object]] = {
    "sendgrid": _sendgrid, "mailgun": _mailgun, "postmark": _postmark, "mailjet": _mailjet,
    "brevo": _brevo, "resend": _resend,
}
PROVIDERS_WITH_WEBHOOKS = frozenset(_READERS)


def reference_from_event(provider: str, event: Mapping[str, Any]) -> str | None:
    """The delivery reference one webhook event of ``provider`` carries, or None when it has
    none (an event about mail we did not send, or a value no reference of ours can have)."""
    reader = _READERS.get(provider)
    if reader is None:
        raise ValueError(f"{provider!r} posts no webhook events we read")
    if not isinstance(event, Mapping):
        return None
    value = reader(event)
    if not isinstance(value, str) or not _REFERENCE.fullmatch(value):
        return None
    return value
