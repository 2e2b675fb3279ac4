"""Brevo (ex-Sendinblue) transactional API: ``POST /v3/smtp/email`` with ``messageVersions``.

One request carries one HTML and one text body in Brevo's template language and up to 1000
message versions (the documented maximum; ≤ 2000 recipients a request), one recipient each, so
each version has its own ``params``, ``List-Unsubscribe`` header and reference (also in
``X-Mailin-custom``, the header Brevo's webhook events echo). The response's ``messageIds`` come
one per version, in order.

Template syntax. Brevo's language is Django-like: ``{{ ... }}`` prints, ``{% ... %}`` runs a
tag, ``{# ... #}`` is a comment, and printed values are HTML-escaped unless
``{% autoescape off %}``. Our values arrive escaped already (and the text part must not be
escaped), so both bodies are wrapped in ``{% autoescape off %}…{% endautoescape %}`` and
placeholders become ``{{ params.h_name }}`` (HTML) / ``{{ params.t_name }}`` (text), or one
``{{ params.v_name }}`` both read where the two values are equal for the whole batch (the
links): Brevo caps the params of all versions of a call at 1000 KB together, so no value
travels twice, and batches are sized to that cap (``ByteLimits``). Literal
template syntax in the content is escaped with a parameter rather than ``{% verbatim %}``
(whose end tag cannot itself be escaped): every ``{`` that would open a construct (followed by
``{``, ``%`` or ``#``, or at the end of a literal run, where a placeholder or tag follows) is
written ``{{ params.dw_lb }}`` with ``dw_lb = "{"``. A printed value is never parsed again, so
the recipient sees the ``{`` and what follows verbatim. The subject gets the same treatment.

Idempotency: ``headers.idempotencyKey`` in the body (a UUID; other keys are mapped to a UUIDv5),
honoured for 30 minutes; a retry with the same key is ignored by Brevo (and answered like the
original, or refused as a duplicate: both mean "accepted earlier").

The subject and both bodies in Brevo's syntax are rendered once per batch content and set of
shared placeholders, and kept.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx

from digiweetjes.errors import UncertainOutcomeError
from digiweetjes.providers.base import (
    BatchContent,
    ByteLimits,
    Capabilities,
    IdempotencySupport,
    Recipient,
    RecipientResult,
)
from digiweetjes.providers.http import ApiKeyProvider, encode_json
from digiweetjes.providers.limits import PreparedRequest
from digiweetjes.providers.messages import (
    ONE_CLICK,
    REFERENCE_HEADER,
    list_unsubscribe_mailto,
    transactional_headers,
)
from digiweetjes.providers.references import BREVO_HEADER
from digiweetjes.render.placeholders import FillableTemplate

_OPENER = re.compile(r"\{(?=[{%#]|\Z)")
_OPENER_INSIDE = re.compile(r"\{(?=[{%#])")
_LBRACE_PARAM = "dw_lb"
_KEY_NAMESPACE = uuid.UUID("6f1d7a3e-2b8c-4d5e-9a0f-1c2b3d4e5f60")


def escape_literal(text: str, *, before_tag: bool = True) -> str:
    """Literal text in which no ``{`` can open a Brevo template construct."""
    pattern = _OPENER if before_tag else _OPENER_INSIDE
    return pattern.sub("{{ params." + _LBRACE_PARAM + " }}", text)


def render_body(template: FillableTemplate, prefix: str,
                shared: frozenset[str] = frozenset()) -> str:
    """A body in Brevo's template language: placeholders as params (``shared`` ones as the
    ``v_`` param both bodies read, the others with ``prefix``), literals escaped."""
    parts = list(template.parts)
    parts[0::2] = [escape_literal(p) for p in parts[0::2]]
    parts[1::2] = ["{{ params." + ("v_" if name in shared else prefix) + name + " }}"
                   for name in parts[1::2]]
    return "{% autoescape off %}" + "".join(parts) + "{% endautoescape %}"


def idempotency_uuid(key: str) -> str:
    """Brevo wants a UUID; an engine key that is not one maps to a stable UUIDv5."""
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return str(uuid.uuid5(_KEY_NAMESPACE, key))


class BrevoProvider(ApiKeyProvider):
    """Brevo: messageVersions, server-side params, idempotency key in the body."""

    name = "brevo"
    capabilities = Capabilities(
        server_side_personalization=True,
        # ≤ 1000 messageVersions a request (/work/shared/providers.md, "Sending").
        max_batch=1000,
        byte_limits=ByteLimits(
            # "the cumulative size of params of all messageVersions must not exceed 1000 KB"
            # (developers.brevo.com, "Send a transactional email" / batch sending, as issue 10
            # quotes it; read as 1,000,000 bytes, the smaller reading) and ≤ 100 KB of params
            # a version (/work/shared/providers.md, "Sending"). No request-body ceiling is
            # documented; one HTML body travels per request.
            recipient_data=100_000,
            recipient_data_total=1_000_000,
        ),
        # headers.idempotencyKey in the JSON body, honoured 30 minutes (providers.md, "Errors,
        # limits, idempotency").
        idempotency=IdempotencySupport("body", "headers.idempotencyKey", timedelta(minutes=30)),
        # messageVersions calls: 6000 an hour (providers.md; developers.brevo.com changelog
        # "Increased rate limit for batch sending email": 100 a minute).
        default_requests_per_second=6000 / 3600,
    )
    default_base_url = "https://api.brevo.com"

    def _auth_headers(self) -> dict[str, str]:
        return {"api-key": self._api_key.reveal()}

    def build_body(self, content: BatchContent, recipients: Sequence[Recipient],
                   idempotency_key: str | None) -> dict[str, Any]:
        """The JSON body of one batch request."""
        versions = []
        # Brevo caps the params of all versions of a call together (ByteLimits), so each value
        # travels once: a placeholder whose HTML and text values are equal for every recipient
        # of the batch (the links always are) is one ``v_`` param read by both bodies.
        shared = shared_placeholders(recipients)
        names: dict[str, tuple[str, str]] = {}
        # What every version shares is worked out once a batch, not once a recipient: the
        # parameter names, the shared headers, the mailto half of List-Unsubscribe. The result
        # is the same as ``message_headers`` (plus Brevo's ``X-Mailin-custom``), key for key.
        common = dict(content.headers)
        mailto = list_unsubscribe_mailto(content)
        for r in recipients:
            params = {_LBRACE_PARAM: "{"}
            html_values, text_values = r.html_values, r.text_values
            for k, v in html_values.items():
                pair = names.get(k) or names.setdefault(k, _param_names(k, shared))
                params[pair[0]] = v
            for k, v in text_values.items():
                pair = names.get(k) or names.setdefault(k, _param_names(k, shared))
                if k not in shared:
                    params[pair[1]] = v
            to: dict[str, str] = {"email": r.email}
            if r.name:
                to["name"] = r.name
            versions.append({"to": [to], "params": params, "headers": {
                **common, "List-Unsubscribe": f"<{r.unsubscribe_url}>, {mailto}",
                "List-Unsubscribe-Post": ONE_CLICK, REFERENCE_HEADER: r.reference,
                # Brevo echoes this one header in its webhook events (providers.references).
                BREVO_HEADER: r.reference}})
        subject, html, text = self._once_per_content(content, _Rendered).bodies_for(shared)
        body: dict[str, Any] = {
            "sender": {"email": content.from_email, "name": content.from_name},
            "subject": subject,
            "htmlContent": html,
            "textContent": text,
            # The subject's escape needs the parameter even where no version is read.
            "params": {_LBRACE_PARAM: "{"},
            "tags": [content.tag],
            "messageVersions": versions,
        }
        if content.reply_to:
            body["replyTo"] = {"email": content.reply_to}
        if idempotency_key:
            body["headers"] = {"idempotencyKey": idempotency_uuid(idempotency_key)}
        return body

    def _prepare(self, content: BatchContent, recipients: Sequence[Recipient],
                 idempotency_key: str | None) -> PreparedRequest:
        body = self.build_body(content, recipients, idempotency_key)
        return PreparedRequest("/v3/smtp/email", encode_json(body), recipient_data=lambda: [
            len(encode_json(v["params"])) for v in body["messageVersions"]])

    def _send(self, content: BatchContent, recipients: Sequence[Recipient],
              idempotency_key: str | None) -> list[RecipientResult]:
        response = self._post_checked(self._prepare(content, recipients, idempotency_key),
                                      len(recipients), accept_status=_duplicate_key)
        if response.status_code >= 400:
            # A reused idempotency key refused as duplicate: the first request was accepted.
            return [self._ok(r, None) for r in recipients]
        data = response.json()
        ids = data.get("messageIds")
        if ids is None and "messageId" in data:
            ids = [data["messageId"]]
        if not isinstance(ids, list) or len(ids) != len(recipients):
            raise UncertainOutcomeError(
                f"brevo accepted the request but returned {len(ids or [])} message ids "
                f"for {len(recipients)} versions")
        return [self._ok(r, str(i)) for r, i in zip(recipients, ids, strict=True)]

    def build_transactional_body(self, content: BatchContent,
                                 recipient: Recipient) -> dict[str, Any]:
        """One message with a top-level ``to`` (no messageVersions): the batch body of one
        version, its params and headers lifted out, without List-Unsubscribe. The reference
        doubles as the idempotency key, so a retried confirmation is sent once."""
        body = self.build_body(content, [recipient], recipient.reference)
        (version,) = body.pop("messageVersions")
        body["to"] = version["to"]
        body["params"] = {**body["params"], **version["params"]}
        body["headers"] = {**transactional_headers(content, recipient),
                           BREVO_HEADER: recipient.reference, **body["headers"]}
        return body

    def _send_one(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        response = self._post("/v3/smtp/email",
                              json=self.build_transactional_body(content, recipient),
                              accept_status=_duplicate_key)
        if response.status_code >= 400:
            return self._ok(recipient, None)  # a retry of an accepted request
        data = response.json()
        ids = data.get("messageIds") or [data.get("messageId")]
        return self._ok(recipient, str(ids[0]) if ids[0] else None)

    def _error_message(self, payload: object) -> str:
        if isinstance(payload, dict):
            code, message = payload.get("code"), payload.get("message")
            return f"{code}: {message}" if code else str(message or payload)
        return str(payload)


def shared_placeholders(recipients: Sequence[Recipient]) -> frozenset[str]:
    """Placeholders whose HTML and text values are equal for every recipient of the batch."""
    shared: set[str] | None = None
    for r in recipients:
        text_values = r.text_values
        same = {k for k, v in r.html_values.items() if text_values.get(k) == v}
        shared = same if shared is None else shared & same
        if not shared:
            return frozenset()
    return frozenset(shared or ())


def _param_names(name: str, shared: frozenset[str]) -> tuple[str, str]:
    """The params the HTML and the text body read for placeholder ``name``."""
    return ("v_" + name, "v_" + name) if name in shared else ("h_" + name, "t_" + name)


class _Rendered:
    """One content's subject and bodies in Brevo's language, per set of shared placeholders."""

    def __init__(self, content: BatchContent) -> None:
        self.content = content
        self.subject = escape_literal(content.subject, before_tag=False)
        self.bodies: dict[frozenset[str], tuple[str, str, str]] = {}

    def bodies_for(self, shared: frozenset[str]) -> tuple[str, str, str]:
        """Subject, HTML and text, the ``shared`` placeholders read from one ``v_`` param."""
        rendered = self.bodies.get(shared)
        if rendered is None:
            rendered = (self.subject, render_body(self.content.html, "h_", shared),
                        render_body(self.content.text, "t_", shared))
            self.bodies[shared] = rendered
        return rendered


def _duplicate_key(response: httpx.Response) -> bool:
    if response.status_code not in (400, 409):
        return False
    text = response.text.lower()
    return "idempotency" in text and "duplicate" in text
