"""Resend: ``POST /emails/batch``, a JSON array of up to 100 complete emails.

Resend has no per-recipient variables, so each email is personalized client-side (one full HTML
body per recipient) and content arrives verbatim. Tags carry the issue and the reference, in the
only characters Resend allows (``providers.messages.safe_tag_value``, reversible). The batch is
strict by default: one invalid email refuses the whole request (422). Answer: ``{"data":
[{"id"}...]}`` in order.

Idempotency: the ``Idempotency-Key`` header (≤ 256 characters; a longer engine key is hashed),
honoured for 24 hours: a retry with the same key and body gets the original answer without
sending twice; 409 ``concurrent_idempotent_requests`` (the first is still running) is transient,
409 ``invalid_idempotent_request`` (same key, other body) is permanent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx

from digiweetjes.errors import ProviderError, TransientProviderError, UncertainOutcomeError
from digiweetjes.providers.base import (
    BatchContent,
    ByteLimits,
    Capabilities,
    IdempotencySupport,
    Recipient,
    RecipientResult,
)
from digiweetjes.providers.http import ApiKeyProvider, encode_json, retry_after_seconds
from digiweetjes.providers.limits import PreparedRequest
from digiweetjes.providers.messages import (
    format_address,
    message_headers,
    safe_tag_value,
    transactional_headers,
)


def idempotency_header(key: str) -> str:
    """The engine's key as Resend takes it (≤ 256 characters)."""
    return key if len(key) <= 256 else "sha256-" + hashlib.sha256(key.encode()).hexdigest()


class ResendProvider(ApiKeyProvider):
    """Resend: client-side personalization, batch of 100, Idempotency-Key header."""

    name = "resend"
    capabilities = Capabilities(
        server_side_personalization=False,
        # ≤ 100 emails a batch request (/work/shared/providers.md, "Sending";
        # resend.com/docs/dashboard/emails/batch-sending).
        max_batch=100,
        # 40 MB an email including attachments, approximate: quoted as Resend's documented
        # single-send limit (github.com/utopia-php/messaging pull 120); no Resend page found.
        # No request-body ceiling documented for the batch endpoint.
        byte_limits=ByteLimits(message=40_000_000),
        # The Idempotency-Key header (≤ 256 characters), honoured 24 hours (providers.md,
        # "Errors, limits, idempotency").
        idempotency=IdempotencySupport("header", "Idempotency-Key", timedelta(hours=24)),
        # 2 requests a second a team by default (providers.md, "Errors, limits, idempotency").
        default_requests_per_second=2.0,
    )
    default_base_url = "https://api.resend.com"

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key.reveal()}"}

    def build_body(self, content: BatchContent,
                   recipients: Sequence[Recipient]) -> list[dict[str, Any]]:
        """The JSON array of one batch request."""
        html, text = content.html, content.text
        sender = format_address(content.from_email, content.from_name)
        issue_tag = {"name": "issue", "value": safe_tag_value(content.tag)}
        emails = []
        for r in recipients:
            email: dict[str, Any] = {
                "from": sender,
                "to": [format_address(r.email, r.name)],
                "subject": content.subject,
                "html": html.fill(r.html_values),
                "text": text.fill(r.text_values),
                "headers": message_headers(content, r),
                "tags": [issue_tag, {"name": "ref", "value": safe_tag_value(r.reference)}],
            }
            if content.reply_to:
                email["reply_to"] = [content.reply_to]
            emails.append(email)
        return emails

    def _prepare(self, content: BatchContent, recipients: Sequence[Recipient],
                 idempotency_key: str | None) -> PreparedRequest:
        emails = self.build_body(content, recipients)
        return PreparedRequest("/emails/batch", encode_json(emails),
                               messages=lambda: [len(encode_json(e)) for e in emails])

    def _send(self, content: BatchContent, recipients: Sequence[Recipient],
              idempotency_key: str | None) -> list[RecipientResult]:
        headers = {"Idempotency-Key": idempotency_header(idempotency_key)} \
            if idempotency_key else None
        data = self._post_checked(self._prepare(content, recipients, idempotency_key),
                                  len(recipients), headers=headers).json()
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) != len(recipients):
            raise UncertainOutcomeError("resend answered a batch with the wrong result count")
        return [self._ok(r, item.get("id")) for r, item in zip(recipients, items, strict=True)]

    def build_transactional_body(self, content: BatchContent,
                                 recipient: Recipient) -> dict[str, Any]:
        """One email for ``POST /emails``, its headers without List-Unsubscribe."""
        (email,) = self.build_body(content, [recipient])
        email["headers"] = transactional_headers(content, recipient)
        return email

    def _send_one(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        # The reference is the idempotency key: a retried confirmation is sent once.
        data = self._post("/emails", json=self.build_transactional_body(content, recipient),
                          headers={"Idempotency-Key": idempotency_header(recipient.reference)}
                          ).json()
        if not isinstance(data, dict) or not data.get("id"):
            raise UncertainOutcomeError("resend accepted one email without an id")
        return self._ok(recipient, data["id"])

    def _error_for(self, response: httpx.Response, now: float) -> ProviderError:
        if response.status_code == 409 and "concurrent" in response.text:
            return TransientProviderError(
                f"resend: HTTP 409: {self._error_reason(response)}",
                retry_after=retry_after_seconds(response.headers, now) or 1.0, status_code=409)
        return super()._error_for(response, now)

    def _error_message(self, payload: object) -> str | None:
        if isinstance(payload, dict) and "message" in payload:
            return f"{payload.get('name', 'error')}: {payload['message']}"
        return None
