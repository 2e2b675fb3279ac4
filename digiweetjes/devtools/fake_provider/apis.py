"""The six providers' dialects the fake server speaks, and which one a request path is for.

Providers that accept or refuse a whole request (Brevo, SendGrid, Mailgun, Resend strict)
refuse it all when one recipient is rejected (``whole_request_dialects``); Postmark and Mailjet
answer per message (``per_message_dialects``). What a dialect is made of is in ``dialect``.
Their searches for what they accepted (Postmark, Mailgun, Mailjet, SendGrid) are in ``search``.
"""

from __future__ import annotations

from digiweetjes.devtools.fake_provider import search
from digiweetjes.devtools.fake_provider.dialect import Api
from digiweetjes.devtools.fake_provider.per_message_dialects import Mailjet, Postmark
from digiweetjes.devtools.fake_provider.whole_request_dialects import (
    Brevo,
    Mailgun,
    Resend,
    SendGrid,
)

__all__ = ["APIS", "api_for", "search"]

APIS: tuple[Api, ...] = (Brevo(), Postmark(), SendGrid(), Mailgun(), Mailjet(), Resend())


def api_for(path: str) -> Api | None:
    """The provider whose sending path this is."""
    return next((api for api in APIS if api.matches(path)), None)
