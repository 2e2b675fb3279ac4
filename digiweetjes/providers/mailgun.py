"""Mailgun: ``POST /v3/{domain}/messages``, multipart form, batch sending to ≤ 1000 ``to``.

One message with one HTML and one text body goes to up to 1000 recipients; ``recipient-variables``
(JSON keyed by address) is always sent, which is what keeps every recipient from seeing every
other address, and supplies ``%recipient.x%`` per recipient: placeholders become
``%recipient.h_name%`` / ``%recipient.t_name%``, and the per-recipient header and reference are
variables too (``h:List-Unsubscribe: %recipient.dw_unsub%``, ``v:digiweetjes-ref:
%recipient.dw_ref%``; Mailgun substitutes recipient variables in headers and custom variables,
*unverified* beyond its batch-sending guide). The custom variable is what webhook events echo,
as ``event-data.user-variables`` (``providers.references``).

Literal syntax: Mailgun has no escape construct. Every ``%`` in the content (and subject) that
could start a ``%…%`` token (followed by ``[A-Za-z0-9_.-]*`` and then ``%`` or the end of a
literal run) is written ``%recipient.dw_pct%`` with ``dw_pct = "%"``. This relies on Mailgun
scanning left to right and not rescanning a substituted value (as a regex substitution does),
which is how the fake server models it; ``%recipient.x%``, ``%unsubscribe_url%`` and the like
then arrive verbatim.

The whole request is accepted (200 ``{"id", "message"}``, one id for the batch) or refused
(400 ``{"message"}``). No idempotency key. EU domains use ``api.eu.mailgun.net``.

The subject and both bodies in Mailgun's syntax are rendered once per batch content and kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

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
from digiweetjes.providers.http import HttpProvider, basic_auth, option, secret_option
from digiweetjes.providers.limits import PreparedRequest
from digiweetjes.providers.messages import (
    LIST_HEADERS,
    ONE_CLICK,
    REFERENCE_HEADER,
    encode_multipart,
    format_address,
    list_unsubscribe,
)
from digiweetjes.render.placeholders import FillableTemplate

HOSTS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}
_PERCENT = re.compile(r"%(?=[A-Za-z0-9_.\-]*%)")
# Before a placeholder, a run that ends in a partial token could join it.
_PERCENT_BEFORE_VAR = re.compile(r"%(?=[A-Za-z0-9_.\-]*(?:%|\Z))")
_PCT_VAR = "%recipient.dw_pct%"


def escape_literal(text: str, *, before_variable: bool = False) -> str:
    """Literal text in which no ``%`` can start a Mailgun variable."""
    return (_PERCENT_BEFORE_VAR if before_variable else _PERCENT).sub(_PCT_VAR, text)


def render_body(template: FillableTemplate, prefix: str) -> str:
    """A body with placeholders as recipient variables and literal ``%`` escaped."""
    parts = list(template.parts)
    last = len(parts) - 1
    parts[0::2] = [escape_literal(p, before_variable=i < last)
                   for i, p in enumerate(parts) if i % 2 == 0]
    parts[1::2] = [f"%recipient.{prefix}{name}%" for name in parts[1::2]]
    return "".join(parts)


class MailgunProvider(HttpProvider):
    """Mailgun: one multipart message to many, recipient-variables, one id a batch."""

    name = "mailgun"
    capabilities = Capabilities(
        server_side_personalization=True,
        # One message to ≤ 1000 ``to`` (/work/shared/providers.md, "Sending").
        max_batch=1000,
        # "The maximum message size Mailgun supports is 25MB", enforced on the uncompressed
        # body (documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/
        # send-http; providers.md): the request is the one message, so its body is held to it.
        byte_limits=ByteLimits(request=25_000_000),
        # No idempotency key, no published rate limit (providers.md, "Errors, limits...").
        idempotency=None,
        # Not published: a cautious 10 a second (SendGrid's general 600/min, the one number
        # providers.md has; 10,000 recipients a second); 429s slow it further.
        default_requests_per_second=10.0,
    )
    default_base_url = HOSTS["us"]

    def __init__(self, api_key: Secret, domain: str, *, region: str = "us",
                 base_url: str | None = None, transport: httpx.BaseTransport | None = None,
                 client: httpx.Client | None = None,
                 timeout: httpx.Timeout | None = None) -> None:
        if region not in HOSTS:
            raise ConfigError(f"DIGIWEETJES_PROVIDER_REGION moet een van deze zijn: "
                              f"{', '.join(sorted(HOSTS))}")
        if not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
            raise ConfigError("DIGIWEETJES_PROVIDER_DOMAIN is geen domeinnaam")
        super().__init__([api_key], base_url=base_url or HOSTS[region], transport=transport,
                         client=client, timeout=timeout)
        self._api_key = api_key
        self.domain = domain

    @classmethod
    def from_settings(cls, settings: Settings,
                      transport: httpx.BaseTransport | None = None) -> MailgunProvider:
        """From ``..._API_KEY``, ``_DOMAIN``, ``_REGION`` (us/eu) and ``_BASE_URL``."""
        opts = settings.provider_options
        return cls(secret_option(opts, "api_key"), option(opts, "domain") or "",
                   region=(option(opts, "region", default="us") or "us").lower(),
                   base_url=option(opts, "base_url", required=False), transport=transport)

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": basic_auth("api", self._api_key.reveal())}

    def build_fields(self, content: BatchContent,
                     recipients: Sequence[Recipient]) -> list[tuple[str, str]]:
        """The form fields of one batch request, in order (``to`` repeated)."""
        variables: dict[str, dict[str, str]] = {}
        for r in recipients:
            values = {"dw_pct": "%", "dw_ref": r.reference,
                      "dw_unsub": list_unsubscribe(r, content)}
            values.update({f"h_{k}": v for k, v in r.html_values.items()})
            values.update({f"t_{k}": v for k, v in r.text_values.items()})
            variables[r.email] = values
        subject, html, text = self._once_per_content(content, _render)
        fields = [("from", format_address(content.from_email, content.from_name))]
        fields += [("to", format_address(r.email, r.name)) for r in recipients]
        fields += [
            ("subject", subject),
            ("html", html),
            ("text", text),
            ("recipient-variables", json.dumps(variables, ensure_ascii=False)),
            ("o:tag", content.tag[:128]),
            ("h:List-Unsubscribe", "%recipient.dw_unsub%"),
            ("h:List-Unsubscribe-Post", ONE_CLICK),
            (f"h:{REFERENCE_HEADER}", "%recipient.dw_ref%"),
            ("v:digiweetjes-ref", "%recipient.dw_ref%"),
            ("v:digiweetjes-issue", content.issue_id),
        ]
        fields += [(f"h:{k}", v) for k, v in content.headers.items()]
        if content.reply_to:
            fields.append(("h:Reply-To", content.reply_to))
        return fields

    def _prepare(self, content: BatchContent, recipients: Sequence[Recipient],
                 idempotency_key: str | None) -> PreparedRequest:
        body, content_type = encode_multipart(self.build_fields(content, recipients))
        return PreparedRequest(f"/v3/{self.domain}/messages", body,
                               headers={"Content-Type": content_type})

    def _send(self, content: BatchContent, recipients: Sequence[Recipient],
              idempotency_key: str | None) -> list[RecipientResult]:
        response = self._post_checked(self._prepare(content, recipients, idempotency_key),
                                      len(recipients))
        message_id = response.json().get("id")
        return [self._ok(r, message_id) for r in recipients]

    def build_transactional_fields(self, content: BatchContent,
                                   recipient: Recipient) -> list[tuple[str, str]]:
        """The fields of one message to one ``to``, without the List-Unsubscribe headers.

        The same rendering as a batch (recipient variables for the one address), so literal
        ``%`` is escaped the same way and the values reach the recipient as they are.
        """
        unwanted = {f"h:{name}" for name in LIST_HEADERS}
        fields = []
        for key, value in self.build_fields(content, [recipient]):
            if key in unwanted:
                continue
            if key == "recipient-variables":
                variables = json.loads(value)
                variables[recipient.email].pop("dw_unsub", None)
                value = json.dumps(variables, ensure_ascii=False)
            fields.append((key, value))
        return fields

    def _send_one(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        body, content_type = encode_multipart(self.build_transactional_fields(content, recipient))
        response = self._post(f"/v3/{self.domain}/messages", content=body,
                              headers={"Content-Type": content_type})
        return self._ok(recipient, response.json().get("id"))


def _render(content: BatchContent) -> tuple[str, str, str]:
    """Subject, HTML and text of ``content`` in Mailgun's recipient-variable syntax."""
    return (escape_literal(content.subject), render_body(content.html, "h_"),
            render_body(content.text, "t_"))
