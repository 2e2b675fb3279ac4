"""Mailjet Send API v3.1: ``POST /v3.1/send`` with ``Globals`` and up to 50 ``Messages``.

One message per recipient (its ``To``, ``Variables``, ``CustomID`` = reference, and its own
``Headers`` with ``List-Unsubscribe``); the shared parts (sender, subject, bodies,
``CustomCampaign`` = tag) travel once in ``Globals``. 50 messages a call is the commonly cited
limit (*unverified*; not raised without confirmation).

Template syntax. With ``TemplateLanguage: true`` placeholders become ``{{var:h_name}}`` /
``{{var:t_name}}`` and Mailjet fills them per message (values printed as given). Mailjet's
language has no documented raw/verbatim construct, so a batch whose subject or bodies contain
template delimiters (``{{``, ``}}``, ``{%``, ``%}``, or a brace touching a placeholder) is
personalized client-side instead: each message carries its filled ``HTMLPart``/``TextPart`` and
``TemplateLanguage`` stays off (Mailjet's default), so the content arrives verbatim.

Results come per message, in order: ``Status`` ``success`` (with ``To[].MessageID``) or
``error`` (with ``Errors``), a partial success possibly answered with HTTP 400; the adapter reads
the per-message statuses whenever the body has one per message. No idempotency key.

Whether a content goes client-side, and its bodies in Mailjet's syntax, are worked out once per
batch content and kept.
"""

from __future__ import annotations

import re
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
from digiweetjes.providers.http import (
    HttpProvider,
    basic_auth,
    encode_json,
    option,
    secret_option,
)
from digiweetjes.providers.limits import PreparedRequest
from digiweetjes.providers.messages import message_headers, transactional_headers
from digiweetjes.render.placeholders import PLACEHOLDER_CLOSE, PLACEHOLDER_OPEN

_DELIMITERS = re.compile(
    r"\{\{|\}\}|\{%|%\}|\{" + PLACEHOLDER_OPEN + "|" + PLACEHOLDER_CLOSE + r"\}")


def needs_client_side(content: BatchContent) -> bool:
    """Whether the content holds anything Mailjet's template language would interpret."""
    return any(_DELIMITERS.search(text) for text in
               (content.subject, content.html.source, content.text.source))


def _address(email: str, name: str | None) -> dict[str, str]:
    return {"Email": email, "Name": name} if name else {"Email": email}


class MailjetProvider(HttpProvider):
    """Mailjet: Globals + Messages, TemplateLanguage variables, per-message results."""

    name = "mailjet"
    capabilities = Capabilities(
        # Server-side unless the content holds template delimiters (see the module docstring);
        # 50 messages of one body each stay small either way.
        server_side_personalization=True,
        # "the limit is 50 messages per call" for v3.1 (dev.mailjet.com/reference/email/
        # send-emails/; /work/shared/providers.md marks it unverified).
        max_batch=50,
        # 15 MB a message including attachments, approximate: only a third party's Mailjet
        # guide says so ("the files' total size must not exceed 15MB", github.com/
        # soixantecircuits/altruist docs/mailjet.md); no Mailjet page found. Each message is
        # counted with the Globals it inherits. No request-body ceiling documented.
        byte_limits=ByteLimits(message=15_000_000),
        # No idempotency key; the rate limit is per key per second but not published
        # (providers.md, "Errors, limits, idempotency").
        idempotency=None,
        # Not published: a cautious 10 a second (SendGrid's general 600/min, the one number
        # providers.md has; 500 messages a second); 429s slow it further.
        default_requests_per_second=10.0,
    )
    default_base_url = "https://api.mailjet.com"

    def __init__(self, api_key: Secret, secret_key: Secret, *, base_url: str | None = None,
                 transport: httpx.BaseTransport | None = None,
                 client: httpx.Client | None = None,
                 timeout: httpx.Timeout | None = None) -> None:
        super().__init__([api_key, secret_key], base_url=base_url, transport=transport,
                         client=client, timeout=timeout)
        self._api_key = api_key
        self._secret_key = secret_key

    @classmethod
    def from_settings(cls, settings: Settings,
                      transport: httpx.BaseTransport | None = None) -> MailjetProvider:
        """From ``DIGIWEETJES_PROVIDER_API_KEY``, ``_SECRET_KEY`` (and ``_BASE_URL``)."""
        opts = settings.provider_options
        return cls(secret_option(opts, "api_key"), secret_option(opts, "secret_key"),
                   base_url=option(opts, "base_url", required=False), transport=transport)

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": basic_auth(self._api_key.reveal(),
                                            self._secret_key.reveal())}

    def build_body(self, content: BatchContent,
                   recipients: Sequence[Recipient]) -> dict[str, Any]:
        """The JSON body of one batch request."""
        html, text = content.html, content.text
        client_side, html_part, text_part = self._once_per_content(content, _render)
        globals_: dict[str, Any] = {
            "From": _address(content.from_email, content.from_name),
            "Subject": content.subject,
            "CustomCampaign": content.tag,
        }
        if content.reply_to:
            globals_["ReplyTo"] = {"Email": content.reply_to}
        if not client_side:
            globals_["TemplateLanguage"] = True
            globals_["HTMLPart"] = html_part
            globals_["TextPart"] = text_part
        messages = []
        for r in recipients:
            message: dict[str, Any] = {
                "To": [_address(r.email, r.name)],
                "CustomID": r.reference,
                "Headers": message_headers(content, r),
            }
            if client_side:
                message["HTMLPart"] = html.fill(r.html_values)
                message["TextPart"] = text.fill(r.text_values)
            else:
                variables = {f"h_{k}": v for k, v in r.html_values.items()}
                variables.update({f"t_{k}": v for k, v in r.text_values.items()})
                message["Variables"] = variables
            messages.append(message)
        return {"Globals": globals_, "Messages": messages}

    def _prepare(self, content: BatchContent, recipients: Sequence[Recipient],
                 idempotency_key: str | None) -> PreparedRequest:
        return _prepared(self.build_body(content, recipients))

    def build_transactional_body(self, content: BatchContent,
                                 recipient: Recipient) -> dict[str, Any]:
        """One message, its headers without List-Unsubscribe."""
        body = self.build_body(content, [recipient])
        body["Messages"][0]["Headers"] = transactional_headers(content, recipient)
        return body

    def _send_one(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        (result,) = self._send_body(
            _prepared(self.build_transactional_body(content, recipient)), [recipient])
        return result

    def _send(self, content: BatchContent, recipients: Sequence[Recipient],
              idempotency_key: str | None) -> list[RecipientResult]:
        return self._send_body(self._prepare(content, recipients, idempotency_key), recipients)

    def _send_body(self, request: PreparedRequest,
                   recipients: Sequence[Recipient]) -> list[RecipientResult]:
        count = len(recipients)
        response = self._post_checked(
            request, count, accept_status=lambda resp: _per_message(resp, count) is not None)
        items = _per_message(response, count)
        if items is None:
            raise UncertainOutcomeError("mailjet accepted the request without per-message results")
        results = []
        for r, item in zip(recipients, items, strict=True):
            if str(item.get("Status", "")).lower() == "success":
                to = item.get("To") or [{}]
                results.append(self._ok(r, str(to[0].get("MessageID") or "") or None))
            else:
                errors = item.get("Errors") or []
                reason = "; ".join(
                    f"{e.get('ErrorCode', '')} {e.get('ErrorMessage', '')}".strip()
                    for e in errors if isinstance(e, dict)) or "refused"
                results.append(self._failed(r, reason))
        return results

    def _error_message(self, payload: object) -> str | None:
        if isinstance(payload, dict) and "ErrorMessage" in payload:
            return f"{payload.get('ErrorIdentifier', '')} {payload['ErrorMessage']}".strip()
        return None


def _prepared(body: dict[str, Any]) -> PreparedRequest:
    """The request of ``body``; each message is weighed with the Globals it inherits."""

    def messages() -> list[int]:
        shared = len(encode_json(body["Globals"]))
        return [shared + len(encode_json(m)) for m in body["Messages"]]

    return PreparedRequest("/v3.1/send", encode_json(body), messages=messages)


def _render(content: BatchContent) -> tuple[bool, str, str]:
    """Whether ``content`` goes client-side, else its bodies with Mailjet variables."""
    if needs_client_side(content):
        return True, "", ""
    return (False, content.html.render_markers(lambda n: "{{var:h_" + n + "}}"),
            content.text.render_markers(lambda n: "{{var:t_" + n + "}}"))


def _per_message(response: httpx.Response, count: int) -> list[dict[str, Any]] | None:
    if response.status_code not in (200, 201, 400):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    items = body.get("Messages") if isinstance(body, dict) else None
    if isinstance(items, list) and len(items) == count and all(isinstance(i, dict)
                                                               for i in items):
        return items
    return None
