"""The six providers' request checks and answers, as the fake server speaks them.

Each ``Api`` reads a request (auth, body shape, limits), turns it into the messages the provider
would deliver (``Delivery``, one per recipient, rendered with the provider's own substitution
when ``render`` is on), and builds the provider's answer from per-recipient outcomes: providers
that accept or refuse a whole request (Brevo, SendGrid, Mailgun, Resend strict) refuse it all
when one recipient is rejected; Postmark and Mailjet answer per message.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from digiweetjes.providers.fake_server import engines

_ids = itertools.count(1)


@dataclass
class Delivery:
    """One message to one recipient, as the provider would deliver it."""

    email: str
    reference: str | None
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    tag: str | None = None


@dataclass
class Parsed:
    deliveries: list[Delivery]
    idempotency_key: str | None = None
    #: Per delivery: a reason the provider itself refuses it (e.g. a Mailjet template error).
    own_rejections: list[str | None] | None = None


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An answer that refuses the request."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    return value[7:] if value.startswith("Bearer ") and len(value) > 7 else None


def _basic(headers: Mapping[str, str]) -> tuple[str, str] | None:
    value = headers.get("authorization", "")
    if not value.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_NAMED = re.compile(r"^\s*(?:\"?(.*?)\"?\s*)?<([^<>]+)>\s*$")


def _address(value: str) -> str | None:
    """The bare address of ``a@b`` or ``Name <a@b>``, or None when it is not one."""
    match = _NAMED.match(value)
    address = match.group(2) if match else value.strip()
    return address if _EMAIL.match(address) else None


class Api:
    """One provider's dialect."""

    provider: str
    #: Messages a request may carry at most.
    limit: int
    idempotency_ttl: float | None = None

    def matches(self, path: str) -> bool:
        raise NotImplementedError

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        raise NotImplementedError

    def parse(self, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        raise NotImplementedError

    def accept(self, parsed: Parsed, rejections: list[str | None]) -> tuple[Answer, list[str]]:
        """The answer and the message id of each delivery (rejected ones: empty)."""
        raise NotImplementedError

    def error(self, status: int, message: str) -> Answer:
        return Answer(status, {"message": message})

    def unauthorized(self) -> Answer:
        return self.error(401, "unauthorized")

    def server_error(self) -> Answer:
        return self.error(500, "internal server error")

    def too_many(self, retry_after: float) -> Answer:
        return self.error(429, "too many requests")

    def success_headers(self) -> dict[str, str]:
        return {}

    def bad(self, message: str, status: int = 400) -> ApiError:
        return ApiError(self.error(status, message))


class Brevo(Api):
    provider = "brevo"
    limit = 1000
    idempotency_ttl = 30 * 60.0

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
        data = _json(body)
        if not isinstance(data, dict):
            raise self.bad("Input must be a JSON object")
        sender = data.get("sender")
        if not isinstance(sender, dict) or not _address(str(sender.get("email", ""))):
            raise self.bad("sender is missing or invalid")
        if not data.get("subject"):
            raise self.bad("subject is missing")
        if not (data.get("htmlContent") or data.get("textContent")):
            raise self.bad("htmlContent or textContent is missing")
        versions = data.get("messageVersions")
        if versions is None:
            versions = [{"to": data.get("to")}]
        if not isinstance(versions, list) or not versions:
            raise self.bad("messageVersions must be a non-empty list")
        if len(versions) > self.limit:
            raise self.bad(f"messageVersions: at most {self.limit} versions a request")
        if sum(len(v.get("to") or []) for v in versions if isinstance(v, dict)) > 2000:
            raise self.bad("at most 2000 recipients a request")
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
                email = _address(str(person.get("email", ""))) if isinstance(person, dict) \
                    else None
                if not email:
                    raise self.bad(f"email is not valid: {person!r:.80}")
                delivery = Delivery(email, vheaders.get("X-Digiweetjes-Ref"),
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
        return Parsed(deliveries, key)

    def accept(self, parsed: Parsed, rejections: list[str | None]) -> tuple[Answer, list[str]]:
        refused = [r for r in rejections if r]
        if refused:
            raise self.bad(refused[0])
        ids = [f"<{time.strftime('%Y%m%d%H%M%S')}.{next(_ids)}@smtp-relay.mailin.fr>"
               for _ in parsed.deliveries]
        return Answer(201, {"messageIds": ids}), ids


class Postmark(Api):
    provider = "postmark"
    limit = 500

    def matches(self, path: str) -> bool:
        return path in ("/email", "/email/batch")

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        return headers.get("x-postmark-server-token") or None

    def error(self, status: int, message: str) -> Answer:
        code = {401: 10, 422: 300}.get(status, 0)
        return Answer(status, {"ErrorCode": code, "Message": message})

    def parse(self, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        data = _json(body)
        batch = path == "/email/batch"
        if (batch and not isinstance(data, list)) or (not batch and not isinstance(data, dict)):
            raise self.bad("The request body is not valid JSON of the right shape.", 422)
        messages = data if batch else [data]
        if len(messages) > self.limit:
            raise self.bad(f"A batch may contain at most {self.limit} messages.", 422)
        deliveries, own = [], []
        for message in messages:
            problem = None
            to = str(message.get("To", "")) if isinstance(message, dict) else ""
            email = _address(to) if "," not in to else None
            if not isinstance(message, dict) or not _address(str(message.get("From", ""))):
                problem = "300: Invalid 'From' address."
            elif not email:
                problem = "300: Invalid 'To' address."
            elif not (message.get("HtmlBody") or message.get("TextBody")):
                problem = "300: Provide either email TextBody or HtmlBody or both."
            delivery = Delivery(email or to, None)
            if isinstance(message, dict):
                delivery.reference = (message.get("Metadata") or {}).get("ref")
                delivery.tag = message.get("Tag")
                if render:
                    delivery.subject = message.get("Subject")
                    delivery.html = message.get("HtmlBody")
                    delivery.text = message.get("TextBody")
                    delivery.headers = {h["Name"]: h["Value"]
                                        for h in message.get("Headers") or []}
            deliveries.append(delivery)
            own.append(problem)
        return Parsed(deliveries, own_rejections=own)

    def accept(self, parsed: Parsed, rejections: list[str | None]) -> tuple[Answer, list[str]]:
        results, ids = [], []
        for delivery, reason in zip(parsed.deliveries, rejections, strict=True):
            if reason:
                code, _, text = reason.partition(": ") if reason[:3].isdigit() else \
                    ("406", "", f"You tried to send to a recipient that has been marked as "
                                f"inactive. ({reason})")
                results.append({"ErrorCode": int(code), "Message": text, "To": delivery.email})
                ids.append("")
            else:
                message_id = str(uuid.uuid4())
                results.append({"ErrorCode": 0, "Message": "OK", "MessageID": message_id,
                                "SubmittedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "To": delivery.email})
                ids.append(message_id)
        return Answer(200, results), ids


class SendGrid(Api):
    provider = "sendgrid"
    limit = 1000

    def matches(self, path: str) -> bool:
        return path == "/v3/mail/send"

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        return _bearer(headers)

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
        data = _json(body)
        if not isinstance(data, dict):
            raise self.bad("Bad Request")
        personalizations = data.get("personalizations")
        if not isinstance(personalizations, list) or not personalizations:
            raise ApiError(self.error(400, "The personalizations field is required.",
                                      "personalizations"))
        if len(personalizations) > self.limit:
            raise ApiError(self.error(400, "The personalizations field must have at most 1000 "
                                      "items.", "personalizations"))
        if not _address(str((data.get("from") or {}).get("email", ""))):
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
        deliveries = []
        for p in personalizations:
            subject = p.get("subject") or data.get("subject")
            if not subject:
                raise ApiError(self.error(400, "The subject is required.", "subject"))
            for person in p.get("to") or []:
                email = _address(str(person.get("email", "")))
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
        return Parsed(deliveries)

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
    _path = re.compile(r"^/v3/([A-Za-z0-9.-]+)/messages$")

    def matches(self, path: str) -> bool:
        return bool(self._path.match(path))

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        auth = _basic(headers)
        return auth[1] if auth and auth[0] == "api" and auth[1] else None

    def unauthorized(self) -> Answer:
        return Answer(401, b"Forbidden")

    def parse(self, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        fields = _form_fields(headers.get("content-type", ""), body)
        if fields is None:
            raise self.bad("the body must be multipart/form-data or urlencoded")
        get = {k: v for k, v in fields}
        tos = [v for k, v in fields if k == "to"]
        if not _address(get.get("from", "")):
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
            email = _address(to)
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
        message_id = f"<{time.strftime('%Y%m%d%H%M%S')}.{next(_ids)}@fake.mailgun.org>"
        return (Answer(200, {"id": message_id, "message": "Queued. Thank you."}),
                [message_id] * len(parsed.deliveries))


class Mailjet(Api):
    provider = "mailjet"
    limit = 50

    def matches(self, path: str) -> bool:
        return path == "/v3.1/send"

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        auth = _basic(headers)
        return f"{auth[0]}:{auth[1]}" if auth and auth[0] and auth[1] else None

    def error(self, status: int, message: str) -> Answer:
        identifier = {400: "mj-0002", 401: "mj-0001"}.get(status, "mj-0000")
        return Answer(status, {"ErrorIdentifier": str(uuid.uuid4()), "ErrorCode": identifier,
                               "StatusCode": status, "ErrorMessage": message})

    def parse(self, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        data = _json(body)
        if not isinstance(data, dict):
            raise self.bad("Malformed JSON, please review the syntax and properties types.")
        messages = data.get("Messages")
        if not isinstance(messages, list) or not messages:
            raise self.bad("Missing or empty Messages property.")
        if len(messages) > self.limit:
            raise self.bad(f"Too many messages: at most {self.limit} a call.")
        shared = data.get("Globals") or {}
        deliveries, own = [], []
        for message in messages:
            m = {**shared, **message} if isinstance(message, dict) else {}
            m["Headers"] = {**(shared.get("Headers") or {}), **(m.get("Headers") or {})}
            to = m.get("To") or []
            problem = None
            if not _address(str((m.get("From") or {}).get("Email", ""))):
                problem = "send-0001 The From email address is not valid."
            elif len(to) != 1 or not _address(str(to[0].get("Email", ""))):
                problem = "send-0003 At least one of To, Cc or Bcc must be a valid address."
            elif not (m.get("TextPart") or m.get("HTMLPart")):
                problem = "send-0004 Provide TextPart, HTMLPart or TemplateID."
            email = str(to[0].get("Email", "")) if to else ""
            delivery = Delivery(email, m.get("CustomID"), tag=m.get("CustomCampaign"))
            if render or (problem is None and m.get("TemplateLanguage")):
                variables = m.get("Variables") or {}
                try:
                    if m.get("TemplateLanguage"):
                        html = engines.render_mailjet(m.get("HTMLPart") or "", variables)
                        text = engines.render_mailjet(m.get("TextPart") or "", variables)
                        subject = engines.render_mailjet(m.get("Subject") or "", variables)
                    else:
                        html, text, subject = m.get("HTMLPart"), m.get("TextPart"), \
                            m.get("Subject")
                    delivery.html, delivery.text, delivery.subject = html, text, subject
                    delivery.headers = dict(m["Headers"])
                except engines.TemplateError as exc:
                    problem = problem or f"send-0010 Template language error: {exc}"
            deliveries.append(delivery)
            own.append(problem)
        return Parsed(deliveries, own_rejections=own)

    def accept(self, parsed: Parsed, rejections: list[str | None]) -> tuple[Answer, list[str]]:
        results, ids = [], []
        for delivery, reason in zip(parsed.deliveries, rejections, strict=True):
            if reason:
                code, _, text = reason.partition(" ")
                if not code.startswith("send-"):
                    code, text = "send-0011", reason
                results.append({"Status": "error", "Errors": [{
                    "ErrorIdentifier": str(uuid.uuid4()), "ErrorCode": code,
                    "StatusCode": 400, "ErrorMessage": text, "ErrorRelatedTo": ["To"]}]})
                ids.append("")
            else:
                message_id = str(next(_ids) + 288230376151711744)
                results.append({"Status": "success", "CustomID": delivery.reference or "",
                                "To": [{"Email": delivery.email,
                                        "MessageUUID": str(uuid.uuid4()),
                                        "MessageID": int(message_id),
                                        "MessageHref": "https://api.mailjet.com/v3/REST/"
                                                       f"message/{message_id}"}]})
                ids.append(message_id)
        status = 400 if any(rejections) else 200
        return Answer(status, {"Messages": results}), ids


_RESEND_TAG = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Resend(Api):
    provider = "resend"
    limit = 100
    idempotency_ttl = 24 * 3600.0

    def matches(self, path: str) -> bool:
        return path in ("/emails", "/emails/batch")

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        return _bearer(headers)

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
        data = _json(body)
        batch = path == "/emails/batch"
        if (batch and not isinstance(data, list)) or (not batch and not isinstance(data, dict)):
            raise self.bad("Invalid JSON body", 422)
        emails = data if batch else [data]
        if len(emails) > self.limit:
            raise self.bad(f"Too many emails: at most {self.limit} a batch", 422)
        key = headers.get("idempotency-key")
        if key is not None and not 1 <= len(key) <= 256:
            raise self.bad("Idempotency-Key must be 1 to 256 characters", 400)
        deliveries = []
        for index, item in enumerate(emails):
            where = f"[{index}]" if batch else ""
            if not isinstance(item, dict):
                raise self.bad(f"{where} must be an object", 422)
            for required in ("from", "to", "subject"):
                if not item.get(required):
                    raise self.bad(f"{where}.{required}: Missing `{required}` field.", 422)
            if not _address(str(item["from"])):
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
                email = _address(str(to))
                if not email:
                    raise self.bad(f"{where}.to: Invalid `to` field.", 422)
                delivery = Delivery(email, ref, tag=next(
                    (t["value"] for t in tags if t.get("name") == "issue"), None))
                if render:
                    delivery.subject, delivery.html, delivery.text = \
                        item["subject"], item.get("html"), item.get("text")
                    delivery.headers = dict(item.get("headers") or {})
                deliveries.append(delivery)
        return Parsed(deliveries, key)

    def accept(self, parsed: Parsed, rejections: list[str | None]) -> tuple[Answer, list[str]]:
        refused = [r for r in rejections if r]
        if refused:
            raise self.bad(refused[0], 422)
        ids = [str(uuid.uuid4()) for _ in parsed.deliveries]
        return Answer(200, {"data": [{"id": i} for i in ids]}), ids


APIS: tuple[Api, ...] = (Brevo(), Postmark(), SendGrid(), Mailgun(), Mailjet(), Resend())


def api_for(path: str) -> Api | None:
    """The provider whose sending path this is."""
    return next((api for api in APIS if api.matches(path)), None)


def _form_fields(content_type: str, body: bytes) -> list[tuple[str, str]] | None:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return parse_qsl(body.decode(), keep_blank_values=True)
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or not match:
        return None
    delimiter = b"--" + match.group(1).encode()
    fields = []
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if not name:
            return None
        if value.endswith(b"\r\n"):
            value = value[:-2]
        fields.append((name.group(1).decode(), value.decode()))
    return fields
