"""The fake server's dialects of Brevo, SendGrid, Mailgun and Resend: one answer a request.

These providers accept or refuse a request whole. Each dialect reads a request into one
``Delivery`` per recipient (rendered with the provider's own substitution where it substitutes
server-side) and answers either success for the whole batch or, when one recipient is rejected,
a refusal of all of it in the provider's own error shape (Resend as in its strict mode).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from digiweetjes.devtools.fake_provider import engines
from digiweetjes.devtools.fake_provider.dialect import (
    Answer,
    Api,
    ApiError,
    Delivery,
    Parsed,
    bare_address,
    basic_credentials,
    bearer_token,
    form_fields,
    json_body,
    json_size,
    message_numbers,
)


class Brevo(Api):
    provider = "brevo"
    limit = 1000
    idempotency_ttl = 30 * 60.0
    #: The params of all messageVersions of a call together, and of one version (Brevo's
    #: "Send a transactional email": 1000 KB and 100 KB; read as 1,000,000 and 100,000).
    params_total = 1_000_000
    params_version = 100_000

    def matches(self, path: str) -> bool:
        return path == "/v3/smtp/email"

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        return headers.get("api-key") or None

    def error(self, status: int, message: str) -> Answer:
        code = {400: "invalid_parameter", 401: "unauthorized", 402: "not_enough_credits",
                429: "too_many_requests"}.get(status, "internal_error")
        return Answer(status, {"code": code, "message": message})

    def too_many(self, retry_after: float) -> Answer:
        answer = self.error(429, "Too many requests")
        answer.headers = {"x-sib-ratelimit-limit": "1000", "x-sib-ratelimit-remaining": "0",
                          "x-sib-ratelimit-reset": str(int(retry_after))}
        return answer

    def success_headers(self) -> dict[str, str]:
        return {"x-sib-ratelimit-limit": "1000", "x-sib-ratelimit-remaining": "999",
                "x-sib-ratelimit-reset": "1"}

    def parse(self, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        data = json_body(body)
        if not isinstance(data, dict):
            raise self.bad("Input must be a JSON object")
        sender = data.get("sender")
        if not isinstance(sender, dict) or not bare_address(str(sender.get("email", ""))):
            raise self.bad("sender is missing or invalid")
        if not data.get("subject"):
            raise self.bad("subject is missing")
        if not (data.get("htmlContent") or data.get("textContent")):
            raise self.bad("htmlContent or textContent is missing")
        versions = data.get("messageVersions")
        single = versions is None
        if single:
            versions = [{"to": data.get("to")}]
        if not isinstance(versions, list) or not versions:
            raise self.bad("messageVersions must be a non-empty list")
        if len(versions) > self.limit:
            raise self.bad(f"messageVersions: at most {self.limit} versions a request")
        if sum(len(v.get("to") or []) for v in versions if isinstance(v, dict)) > 2000:
            raise self.bad("at most 2000 recipients a request")
        sizes = self._check_params(versions)
        top_headers = data.get("headers") or {}
        key = top_headers.get("idempotencyKey") if isinstance(top_headers, dict) else None
        deliveries = []
        top_params = data.get("params") or {}
        for version in versions:
            to = version.get("to") if isinstance(version, dict) else None
            if not isinstance(to, list) or not 1 <= len(to) <= 99:
                raise self.bad("to: each version needs 1 to 99 recipients")
            params = {**top_params, **(version.get("params") or {})}
            vheaders = {k: str(v) for k, v in {**top_headers, **(version.get("headers") or {})}
                        .items() if k != "idempotencyKey"}
            for person in to:
                email = bare_address(str(person.get("email", ""))) if isinstance(person, dict) \
                    else None
                if not email:
                    raise self.bad(f"email is not valid: {person!r:.80}")
                # The header Brevo's webhook events echo (providers.references), else ours.
                delivery = Delivery(email, vheaders.get("X-Mailin-custom")
                                    or vheaders.get("X-Digiweetjes-Ref"),
                                    tag=",".join(data.get("tags") or []))
                if render:
                    try:
                        delivery.subject = engines.render_brevo(
                            version.get("subject") or data["subject"], params)
                        delivery.html = engines.render_brevo(
                            version.get("htmlContent") or data.get("htmlContent") or "", params)
                        delivery.text = engines.render_brevo(
                            version.get("textContent") or data.get("textContent") or "", params)
                    except engines.TemplateError as exc:
                        raise self.bad(f"Template error: {exc}") from exc
                    delivery.headers = vheaders
                deliveries.append(delivery)
        return Parsed(deliveries, key, single=single, sizes=sizes)

    def _check_params(self, versions: list[Any]) -> dict[str, int]:
        """The sizes of the versions' params; over a limit, the 400 Brevo answers."""
        each = [json_size(v.get("params") or {}) for v in versions if isinstance(v, dict)]
        sizes = {"params_total": sum(each), "params_version": max(each, default=0)}
        if sizes["params_version"] > self.params_version:
            raise self.over_limit(f"params of a messageVersion must not exceed 100 KB "
                                  f"({sizes['params_version']} bytes)", sizes)
        if sizes["params_total"] > self.params_total:
            raise self.over_limit(f"the cumulative size of params of all messageVersions must "
                                  f"not exceed 1000 KB ({sizes['params_total']} bytes)", sizes)
        return sizes

    def accept(self, parsed: Parsed, rejections: list[str | None]) -> tuple[Answer, list[str]]:
        refused = [r for r in rejections if r]
        if refused:
            raise self.bad(refused[0])
        ids = [f"<{time.strftime('%Y%m%d%H%M%S')}.{next(message_numbers)}@smtp-relay.mailin.fr>"
               for _ in parsed.deliveries]
        if parsed.single and len(ids) == 1:
            return Answer(201, {"messageId": ids[0]}), ids
        return Answer(201, {"messageIds": ids}), ids


class SendGrid(Api):
    provider = "sendgrid"
    limit = 1000
    #: "less than 30MB" a request; substitutions and custom_args ≤ 10,000 bytes a
    #: personalization (docs.sendgrid.com/api-reference/mail-send/limitations).
    max_request_bytes = 30_000_000
    personalization_data = 10_000

    def matches(self, path: str) -> bool:
        return path == "/v3/mail/send"

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        return bearer_token(headers)

    def error(self, status: int, message: str, field_name: str | None = None) -> Answer:
        return Answer(status, {"errors": [{"message": message, "field": field_name,
                                           "help": None}]})

    def too_many(self, retry_after: float) -> Answer:
        answer = self.error(429, "too many requests")
        answer.headers = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0",
                          "X-RateLimit-Reset": str(int(time.time() + retry_after))}
        return answer

    def parse(self, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        data = json_body(body)
        if not isinstance(data, dict):
            raise self.bad("Bad Request")
        personalizations = data.get("personalizations")
        if not isinstance(personalizations, list) or not personalizations:
            raise ApiError(self.error(400, "The personalizations field is required.",
                                      "personalizations"))
        if len(personalizations) > self.limit:
            raise ApiError(self.error(400, "The personalizations field must have at most 1000 "
                                      "items.", "personalizations"))
        if not bare_address(str((data.get("from") or {}).get("email", ""))):
            raise ApiError(self.error(400, "The from object must be provided.", "from"))
        content = data.get("content")
        if not isinstance(content, list) or not content or any(
                not isinstance(c, dict) or not c.get("value") for c in content):
            raise ApiError(self.error(400, "The content value must be a string at least one "
                                      "character in length.", "content"))
        types = [c.get("type") for c in content]
        if "text/plain" in types and types.index("text/plain") != 0:
            raise ApiError(self.error(400, "If present, text/plain must be first.", "content"))
        if len(data.get("categories") or []) > 10:
            raise ApiError(self.error(400, "Too many categories.", "categories"))
        total = sum(len(p.get("to") or []) for p in personalizations if isinstance(p, dict))
        if total > 1000:
            raise ApiError(self.error(400, "Too many recipients.", "personalizations"))
        parts = {c.get("type"): c.get("value") for c in content}
        data_sizes = [json_size(p.get("substitutions") or {}) + json_size(
            p.get("custom_args") or {}) for p in personalizations if isinstance(p, dict)]
        sizes = {"personalization_data": max(data_sizes, default=0)}
        if sizes["personalization_data"] > self.personalization_data:
            raise ApiError(self.error(400, "The total size of substitutions and custom_args "
                                      "must not exceed 10000 bytes per personalization.",
                                      "personalizations"), sizes=sizes, over_limit=True)
        deliveries = []
        for p in personalizations:
            subject = p.get("subject") or data.get("subject")
            if not subject:
                raise ApiError(self.error(400, "The subject is required.", "subject"))
            for person in p.get("to") or []:
                email = bare_address(str(person.get("email", "")))
                if not email:
                    raise ApiError(self.error(
                        400, "Does not contain a valid address.", "personalizations.to"))
                args = p.get("custom_args") or {}
                delivery = Delivery(email, args.get("ref"),
                                    tag=",".join(data.get("categories") or []))
                if render:
                    subs = p.get("substitutions") or {}
                    delivery.subject = engines.render_sendgrid(subject, subs)
                    if "text/html" in parts:
                        delivery.html = engines.render_sendgrid(parts["text/html"], subs)
                    if "text/plain" in parts:
                        delivery.text = engines.render_sendgrid(parts["text/plain"], subs)
                    delivery.headers = {**(data.get("headers") or {}), **(p.get("headers") or {})}
                deliveries.append(delivery)
        return Parsed(deliveries, sizes=sizes)

    def accept(self, parsed: Parsed, rejections: list[str | None]) -> tuple[Answer, list[str]]:
        refused = [r for r in rejections if r]
        if refused:
            raise ApiError(self.error(400, refused[0], "personalizations.to"))
        message_id = uuid.uuid4().hex[:22]
        answer = Answer(202, None, {"X-Message-Id": message_id})
        return answer, [message_id] * len(parsed.deliveries)


class Mailgun(Api):
    provider = "mailgun"
    limit = 1000
    #: "The maximum message size Mailgun supports is 25MB" (send-http guide): the one message.
    max_request_bytes = 25_000_000
    _path = re.compile(r"^/v3/([A-Za-z0-9.-]+)/messages$")

    def matches(self, path: str) -> bool:
        return bool(self._path.match(path))

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        auth = basic_credentials(headers)
        return auth[1] if auth and auth[0] == "api" and auth[1] else None

    def unauthorized(self) -> Answer:
        return Answer(401, b"Forbidden")

    def parse(self, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        fields = form_fields(headers.get("content-type", ""), body)
        if fields is None:
            raise self.bad("the body must be multipart/form-data or urlencoded")
        get = {k: v for k, v in fields}
        tos = [v for k, v in fields if k == "to"]
        if not bare_address(get.get("from", "")):
            raise self.bad("from parameter is missing")
        if not tos:
            raise self.bad("to parameter is missing")
        if len(tos) > self.limit:
            raise self.bad(f"Too many recipients: at most {self.limit} a message")
        if not (get.get("text") or get.get("html")):
            raise self.bad("Need at least one of 'text' or 'html' parameters specified")
        raw_variables = get.get("recipient-variables")
        if len(tos) > 1 and raw_variables is None:
            # The real one would send every recipient every address; the fake refuses it.
            raise self.bad("fake: batch without recipient-variables would expose every address")
        variables = json.loads(raw_variables) if raw_variables else {}
        if not isinstance(variables, dict):
            raise self.bad("recipient-variables must be a JSON object")
        deliveries = []
        for to in tos:
            email = bare_address(to)
            if not email:
                raise self.bad(f"to parameter is not a valid address: {to[:80]}")
            mine = variables.get(email) or {}
            ref_template = get.get("v:digiweetjes-ref")
            delivery = Delivery(email, engines.render_mailgun(ref_template, mine)
                                if ref_template else None, tag=get.get("o:tag"))
            if render:
                delivery.subject = engines.render_mailgun(get.get("subject", ""), mine)
                delivery.html = engines.render_mailgun(get["html"], mine) \
                    if "html" in get else None
                delivery.text = engines.render_mailgun(get["text"], mine) \
                    if "text" in get else None
                delivery.headers = {k[2:]: engines.render_mailgun(v, mine)
                                    for k, v in fields if k.startswith("h:")}
            deliveries.append(delivery)
        return Parsed(deliveries)

    def accept(self, parsed: Parsed, rejections: list[str | None]) -> tuple[Answer, list[str]]:
        refused = [r for r in rejections if r]
        if refused:
            raise self.bad(refused[0])
        message_id = f"<{time.strftime('%Y%m%d%H%M%S')}.{next(message_numbers)}@fake.mailgun.org>"
        return (Answer(200, {"id": message_id, "message": "Queued. Thank you."}),
                [message_id] * len(parsed.deliveries))


_RESEND_TAG = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Resend(Api):
    provider = "resend"
    limit = 100
    idempotency_ttl = 24 * 3600.0
    #: An email, attachments included (approximate: no Resend page found).
    max_email_bytes = 40_000_000

    def matches(self, path: str) -> bool:
        return path in ("/emails", "/emails/batch")

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        return bearer_token(headers)

    def error(self, status: int, message: str, name: str | None = None) -> Answer:
        name = name or {400: "validation_error", 401: "missing_api_key",
                        403: "invalid_api_key", 422: "validation_error",
                        429: "rate_limit_exceeded"}.get(status, "internal_server_error")
        return Answer(status, {"statusCode": status, "name": name, "message": message})

    def too_many(self, retry_after: float) -> Answer:
        answer = self.error(429, "Too many requests. You can only make 2 requests per second.")
        answer.headers = {"retry-after": str(int(retry_after)), "ratelimit-limit": "2",
                          "ratelimit-remaining": "0", "ratelimit-reset": str(int(retry_after))}
        return answer

    def success_headers(self) -> dict[str, str]:
        return {"ratelimit-limit": "2", "ratelimit-remaining": "1", "ratelimit-reset": "1"}

    def parse(self, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        data = json_body(body)
        batch = path == "/emails/batch"
        if (batch and not isinstance(data, list)) or (not batch and not isinstance(data, dict)):
            raise self.bad("Invalid JSON body", 422)
        emails = data if batch else [data]
        if len(emails) > self.limit:
            raise self.bad(f"Too many emails: at most {self.limit} a batch", 422)
        key = headers.get("idempotency-key")
        if key is not None and not 1 <= len(key) <= 256:
            raise self.bad("Idempotency-Key must be 1 to 256 characters", 400)
        if len(body) > self.max_email_bytes:
            for index, item in enumerate(emails):
                size = json_size(item)
                if size > self.max_email_bytes:
                    raise self.over_limit(f"[{index}]: the email is {size} bytes, over the "
                                          f"{self.max_email_bytes} an email may be",
                                          {"email": size}, 422)
        deliveries = []
        for index, item in enumerate(emails):
            where = f"[{index}]" if batch else ""
            if not isinstance(item, dict):
                raise self.bad(f"{where} must be an object", 422)
            for required in ("from", "to", "subject"):
                if not item.get(required):
                    raise self.bad(f"{where}.{required}: Missing `{required}` field.", 422)
            if not bare_address(str(item["from"])):
                raise self.bad(f"{where}.from: Invalid `from` field.", 422)
            if not (item.get("html") or item.get("text")):
                raise self.bad(f"{where}: Missing `html` or `text` field.", 422)
            tos = item["to"] if isinstance(item["to"], list) else [item["to"]]
            if len(tos) > 50:
                raise self.bad(f"{where}.to: at most 50 recipients", 422)
            tags = item.get("tags") or []
            for tag in tags:
                if not (_RESEND_TAG.match(str(tag.get("name", "")))
                        and _RESEND_TAG.match(str(tag.get("value", "")))):
                    raise self.bad(f"{where}.tags: Tags should only contain ASCII letters, "
                                   "numbers, underscores, or dashes.", 422)
            ref = next((t["value"] for t in tags if t.get("name") == "ref"), None)
            for to in tos:
                email = bare_address(str(to))
                if not email:
                    raise self.bad(f"{where}.to: Invalid `to` field.", 422)
                delivery = Delivery(email, ref, tag=next(
                    (t["value"] for t in tags if t.get("name") == "issue"), None))
                if render:
                    delivery.subject, delivery.html, delivery.text = \
                        item["subject"], item.get("html"), item.get("text")
                    delivery.headers = dict(item.get("headers") or {})
                deliveries.append(delivery)
        return Parsed(deliveries, key, single=not batch)

    def accept(self, parsed: Parsed, rejections: list[str | None]) -> tuple[Answer, list[str]]:
        refused = [r for r in rejections if r]
        if refused:
            raise self.bad(refused[0], 422)
        if parsed.single:
            # One email (any number of ``to``): one id, as POST /emails answers.
            message_id = str(uuid.uuid4())
            return Answer(200, {"id": message_id}), [message_id] * len(parsed.deliveries)
        ids = [str(uuid.uuid4()) for _ in parsed.deliveries]
        return Answer(200, {"data": [{"id": i} for i in ids]}), ids
