"""Postmark: ``POST /email/batch``, a JSON array of up to 500 complete messages.

Postmark has no per-recipient variables outside its stored templates, so each message is
personalized client-side (``FillableTemplate.fill``): one full HTML body per recipient. Content
is sent as-is, so literal ``{{ … }}`` or any other syntax arrives verbatim. Newsletters go to a
broadcast ``MessageStream``; transactional mail (confirmations) goes one message at a time to
``POST /email`` on the transactional stream (``outbound``, Postmark's default one), without
List-Unsubscribe. The batch answers HTTP 200 with one result per message, in order;
each ``ErrorCode`` must be checked (0 = accepted, 406 = inactive recipient, 300 = invalid...).
No idempotency key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from digiweetjes.config import Secret, Settings
from digiweetjes.errors import UncertainOutcomeError
from digiweetjes.providers.base import (
    BatchContent,
    ByteLimits,
    Capabilities,
    Recipient,
    RecipientResult,
)
from digiweetjes.providers.http import HttpProvider, encode_json, option, secret_option
from digiweetjes.providers.limits import PreparedRequest
from digiweetjes.providers.messages import (
    format_address,
    message_headers,
    transactional_headers,
)


class PostmarkProvider(HttpProvider):
    """Postmark: client-side personalization, per-message results inside a batch."""

    name = "postmark"
    capabilities = Capabilities(
        server_side_personalization=False,
        # ≤ 500 messages a batch request (/work/shared/providers.md, "Sending";
        # postmarkapp.com/developer/user-guide/send-email-with-api/batch-emails).
        max_batch=500,
        # "Batch endpoint total payload size, including attachments, cannot exceed 50 MB";
        # "Total message size, including attachments, can be 10 MB" (postmarkapp.com/support/
        # article/1056-what-are-the-attachment-and-email-size-limits; providers.md).
        byte_limits=ByteLimits(request=50_000_000, message=10_000_000),
        # No idempotency key; rate limits not published (providers.md, "Errors, limits...").
        idempotency=None,
        # Not published: a cautious 10 a second (SendGrid's general 600/min, the one number
        # the table has; 500 messages a request, 5,000 a second); 429s slow it further.
        default_requests_per_second=10.0,
    )
    default_base_url = "https://api.postmarkapp.com"

    def __init__(self, server_token: Secret, *, message_stream: str = "broadcast",
                 transactional_stream: str = "outbound",
                 base_url: str | None = None, transport: httpx.BaseTransport | None = None,
                 client: httpx.Client | None = None,
                 timeout: httpx.Timeout | None = None) -> None:
        super().__init__([server_token], base_url=base_url, transport=transport, client=client,
                         timeout=timeout)
        self._token = server_token
        self.message_stream = message_stream
        self.transactional_stream = transactional_stream

    @classmethod
    def from_settings(cls, settings: Settings,
                      transport: httpx.BaseTransport | None = None) -> PostmarkProvider:
        """From ``DIGIWEETJES_PROVIDER_SERVER_TOKEN``, ``_MESSAGE_STREAM`` (broadcast) and
        ``_TRANSACTIONAL_STREAM`` (outbound)."""
        opts = settings.provider_options
        return cls(secret_option(opts, "server_token"),
                   message_stream=option(opts, "message_stream", default="broadcast") or "",
                   transactional_stream=option(opts, "transactional_stream",
                                               default="outbound") or "",
                   base_url=option(opts, "base_url", required=False), transport=transport)

    def _auth_headers(self) -> dict[str, str]:
        return {"X-Postmark-Server-Token": self._token.reveal()}

    def build_body(self, content: BatchContent,
                   recipients: Sequence[Recipient]) -> list[dict[str, Any]]:
        """The JSON array of one batch request."""
        html, text = content.html, content.text
        sender = format_address(content.from_email, content.from_name)
        messages = []
        for r in recipients:
            message: dict[str, Any] = {
                "From": sender,
                "To": format_address(r.email, r.name),
                "Subject": content.subject,
                "HtmlBody": html.fill(r.html_values),
                "TextBody": text.fill(r.text_values),
                "Headers": [{"Name": k, "Value": v}
                            for k, v in message_headers(content, r).items()],
                "Tag": content.tag,
                "Metadata": {"ref": r.reference, "issue": content.issue_id},
                "MessageStream": self.message_stream,
            }
            if content.reply_to:
                message["ReplyTo"] = content.reply_to
            messages.append(message)
        return messages

    def _prepare(self, content: BatchContent, recipients: Sequence[Recipient],
                 idempotency_key: str | None) -> PreparedRequest:
        messages = self.build_body(content, recipients)
        return PreparedRequest("/email/batch", encode_json(messages),
                               messages=lambda: [len(encode_json(m)) for m in messages])

    def _send(self, content: BatchContent, recipients: Sequence[Recipient],
              idempotency_key: str | None) -> list[RecipientResult]:
        data = self._post_checked(self._prepare(content, recipients, idempotency_key),
                                  len(recipients)).json()
        if not isinstance(data, list) or len(data) != len(recipients):
            raise UncertainOutcomeError("postmark answered a batch with the wrong result count")
        results = []
        for r, item in zip(recipients, data, strict=True):
            code = item.get("ErrorCode", 0)
            if code == 0:
                results.append(self._ok(r, item.get("MessageID")))
            else:
                results.append(self._failed(r, f"{code}: {item.get('Message', '')}"))
        return results

    def build_transactional_body(self, content: BatchContent,
                                 recipient: Recipient) -> dict[str, Any]:
        """One message for ``POST /email`` on the transactional stream, no List-Unsubscribe."""
        (message,) = self.build_body(content, [recipient])
        message["Headers"] = [{"Name": k, "Value": v}
                              for k, v in transactional_headers(content, recipient).items()]
        message["MessageStream"] = self.transactional_stream
        return message

    def _send_one(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        # A refused message answers 422 with its ErrorCode: a PermanentProviderError.
        data = self._post("/email", json=self.build_transactional_body(content, recipient)).json()
        if not isinstance(data, dict):
            raise UncertainOutcomeError("postmark answered one message with no result")
        code = data.get("ErrorCode", 0)
        if code != 0:
            return self._failed(recipient, f"{code}: {data.get('Message', '')}")
        return self._ok(recipient, data.get("MessageID"))

    def _error_message(self, payload: object) -> str | None:
        if isinstance(payload, dict) and "ErrorCode" in payload:
            return f"{payload['ErrorCode']}: {payload.get('Message', '')}"
        return None
