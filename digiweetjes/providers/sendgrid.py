"""SendGrid v3 Mail Send: ``POST /v3/mail/send`` with up to 1000 personalizations.

One request carries one HTML and one text body and one personalization per recipient, each with
its own ``to``, ``headers`` (``List-Unsubscribe``, reference), ``custom_args`` (reference and
issue, echoed in event webhooks) and ``substitutions``. SendGrid's legacy substitutions are
plain string replacement of the keys we choose, in subject and content, so the keys are made
unable to clash: ``-dw<nonce>-h-name-`` / ``-dw<nonce>-t-name-``, with a nonce picked so that
``-dw<nonce>-`` occurs nowhere in the subject, the bodies or any value of the batch. Literal
``{{ … }}`` or any other text is then never touched, and no value can contain another key.

SendGrid accepts or refuses the whole request: 202 with an ``X-Message-Id`` header (the id of
the request, prefix of every recipient's ``sg_message_id``), or 400 ``{"errors":[...]}``.
``X-RateLimit-Reset`` is an epoch. No idempotency key. EU accounts use ``api.eu.sendgrid.com``.

The bodies with a given key prefix are rendered once per batch content and kept (the prefix is
nearly always ``-dw-``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import httpx

from digiweetjes.config import Secret, Settings
from digiweetjes.errors import ConfigError
from digiweetjes.providers.base import (
    BatchContent,
    ByteLimits,
    Capabilities,
    Recipient,
    RecipientResult,
)
from digiweetjes.providers.http import HttpProvider, encode_json, option, secret_option
from digiweetjes.providers.limits import PreparedRequest
from digiweetjes.providers.messages import message_headers, transactional_headers

HOSTS = {"us": "https://api.sendgrid.com", "eu": "https://api.eu.sendgrid.com"}


def substitution_prefix(content: BatchContent, recipients: Sequence[Recipient]) -> str:
    """A key prefix ``-dw<n>-`` that occurs nowhere in the batch's text or values."""
    return _free_prefix(_content_text(content), recipients)


def _content_text(content: BatchContent) -> str:
    return "\n".join((content.subject, content.html.source, content.text.source))


def _free_prefix(content_text: str, recipients: Iterable[Recipient]) -> str:
    # A prefix has no line break, so it occurs in the joined text only inside one of its parts.
    values = "\n".join(v for r in recipients for v in itertools.chain(r.html_values.values(),
                                                                       r.text_values.values()))
    for n in itertools.count():
        prefix = f"-dw{n}-" if n else "-dw-"
        if prefix not in content_text and prefix not in values:
            return prefix
    raise AssertionError("unreachable")


class _Rendered:
    """One content's text to search for prefixes, and its bodies by key prefix."""

    def __init__(self, content: BatchContent) -> None:
        self.content = content
        self.text = _content_text(content)
        self.bodies: dict[str, tuple[str, str]] = {}

    def bodies_for(self, prefix: str) -> tuple[str, str]:
        """Text and HTML with each placeholder written as its substitution key."""
        bodies = self.bodies.get(prefix)
        if bodies is None:
            bodies = (self.content.text.render_markers(lambda name: _key(prefix, "t", name)),
                      self.content.html.render_markers(lambda name: _key(prefix, "h", name)))
            self.bodies[prefix] = bodies
        return bodies


def _key(prefix: str, part: str, name: str) -> str:
    return f"{prefix}{part}-{name}-"


class SendGridProvider(HttpProvider):
    """SendGrid: personalizations with substitutions, all-or-nothing."""

    name = "sendgrid"
    capabilities = Capabilities(
        server_side_personalization=True,
        # ≤ 1000 personalizations and recipients a request (/work/shared/providers.md,
        # "Sending").
        max_batch=1000,
        byte_limits=ByteLimits(
            # "The total size of your email, including attachments, must be less than 30MB",
            # computed on the whole JSON payload (docs.sendgrid.com/api-reference/mail-send/
            # limitations; providers.md "Sending"); 30,000,000 bytes, the smaller reading.
            request=30_000_000,
            # Custom arguments "less than 10000 bytes" (the same page) and substitutions
            # ≤ 10,000 bytes a personalization (v3 Mail Send reference; the older
            # substitution-tags guide says 50,000): both together against 10,000, the safe
            # reading, measured as their JSON.
            recipient_data=10_000,
        ),
        # No idempotency key; mail/send is exempt from the general 600/min limit and has no
        # published one of its own (providers.md, "Errors, limits, idempotency").
        idempotency=None,
        # So a cautious start at the general limit, 600/min = 10 a second (10,000 recipients
        # a second); 429s and X-RateLimit-Reset slow it further.
        default_requests_per_second=10.0,
    )
    default_base_url = HOSTS["us"]

    def __init__(self, api_key: Secret, *, region: str = "us", base_url: str | None = None,
                 transport: httpx.BaseTransport | None = None,
                 client: httpx.Client | None = None,
                 timeout: httpx.Timeout | None = None) -> None:
        if region not in HOSTS:
            raise ConfigError(f"DIGIWEETJES_PROVIDER_REGION moet een van deze zijn: "
                              f"{', '.join(sorted(HOSTS))}")
        super().__init__([api_key], base_url=base_url or HOSTS[region], transport=transport,
                         client=client, timeout=timeout)
        self._api_key = api_key

    @classmethod
    def from_settings(cls, settings: Settings,
                      transport: httpx.BaseTransport | None = None) -> SendGridProvider:
        """From ``DIGIWEETJES_PROVIDER_API_KEY``, ``_REGION`` (us/eu) and ``_BASE_URL``."""
        opts = settings.provider_options
        return cls(secret_option(opts, "api_key"),
                   region=(option(opts, "region", default="us") or "us").lower(),
                   base_url=option(opts, "base_url", required=False), transport=transport)

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key.reveal()}"}

    def build_body(self, content: BatchContent,
                   recipients: Sequence[Recipient]) -> dict[str, Any]:
        """The JSON body of one batch request."""
        rendered = self._once_per_content(content, _Rendered)
        prefix = _free_prefix(rendered.text, recipients)

        def key(part: str, name: str) -> str:
            return _key(prefix, part, name)

        personalizations = []
        for r in recipients:
            to: dict[str, str] = {"email": r.email}
            if r.name:
                to["name"] = r.name
            substitutions = {key("h", k): v for k, v in r.html_values.items()}
            substitutions.update({key("t", k): v for k, v in r.text_values.items()})
            personalization: dict[str, Any] = {
                "to": [to],
                "headers": {k: v for k, v in message_headers(content, r).items()
                            if k not in content.headers},
                "custom_args": {"ref": r.reference, "issue": content.issue_id},
            }
            if substitutions:
                personalization["substitutions"] = substitutions
            personalizations.append(personalization)
        text, html = rendered.bodies_for(prefix)
        # SendGrid wants text/plain before text/html, and no empty part.
        parts = [{"type": t, "value": v} for t, v in (("text/plain", text), ("text/html", html))
                 if v]
        body: dict[str, Any] = {
            "personalizations": personalizations,
            "from": {"email": content.from_email, "name": content.from_name},
            "subject": content.subject,
            "content": parts,
            "categories": [content.tag[:255]],
        }
        if content.headers:
            body["headers"] = dict(content.headers)
        if content.reply_to:
            body["reply_to"] = {"email": content.reply_to}
        return body

    def _prepare(self, content: BatchContent, recipients: Sequence[Recipient],
                 idempotency_key: str | None) -> PreparedRequest:
        body = self.build_body(content, recipients)
        return PreparedRequest("/v3/mail/send", encode_json(body), recipient_data=lambda: [
            len(encode_json(p.get("substitutions") or {})) + len(encode_json(p["custom_args"]))
            for p in body["personalizations"]])

    def _send(self, content: BatchContent, recipients: Sequence[Recipient],
              idempotency_key: str | None) -> list[RecipientResult]:
        response = self._post_checked(self._prepare(content, recipients, idempotency_key),
                                      len(recipients))
        message_id = response.headers.get("x-message-id")
        return [self._ok(r, message_id) for r in recipients]

    def build_transactional_body(self, content: BatchContent,
                                 recipient: Recipient) -> dict[str, Any]:
        """One personalization, its headers without List-Unsubscribe."""
        body = self.build_body(content, [recipient])
        (personalization,) = body["personalizations"]
        personalization["headers"] = {
            k: v for k, v in transactional_headers(content, recipient).items()
            if k not in content.headers}
        return body

    def _send_one(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        response = self._post("/v3/mail/send",
                              json=self.build_transactional_body(content, recipient))
        return self._ok(recipient, response.headers.get("x-message-id"))

    def _error_message(self, payload: object) -> str | None:
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if isinstance(errors, list) and errors:
            return "; ".join(
                f"{e.get('field')}: {e.get('message')}" if e.get("field") not in (None, "null")
                else str(e.get("message")) for e in errors if isinstance(e, dict))
        return None
