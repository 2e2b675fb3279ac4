"""The fake server's dialects of Postmark and Mailjet: one answer a message.

Each dialect reads a request into one ``Delivery`` per message, notes which messages the
provider itself refuses (a bad address, a Mailjet template error), and answers with one result
per message: accepted ones get an id, rejected ones the provider's error code and words.
"""

from __future__ import annotations

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
    json_body,
    json_size,
    message_numbers,
)


def _oversized(body: bytes, messages: list[Any], limit: int,
               shared: Any = None) -> list[int | None]:
    """Per message: its size where it is over ``limit`` (each counted with ``shared``)."""
    if len(body) <= limit:
        return [None] * len(messages)
    base = json_size(shared) if shared else 0
    return [size if size > limit else None
            for size in (base + json_size(m) for m in messages)]


class Postmark(Api):
    provider = "postmark"
    limit = 500
    #: "Batch endpoint total payload size ... cannot exceed 50 MB"; "Total message size ...
    #: can be 10 MB" (postmarkapp.com/support/article/1056).
    max_request_bytes = 50_000_000
    max_message_bytes = 10_000_000

    def matches(self, path: str) -> bool:
        return path in ("/email", "/email/batch")

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        return headers.get("x-postmark-server-token") or None

    def error(self, status: int, message: str) -> Answer:
        code = {401: 10, 422: 300}.get(status, 0)
        return Answer(status, {"ErrorCode": code, "Message": message})

    def parse(self, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        data = json_body(body)
        batch = path == "/email/batch"
        if (batch and not isinstance(data, list)) or (not batch and not isinstance(data, dict)):
            raise self.bad("The request body is not valid JSON of the right shape.", 422)
        messages = data if batch else [data]
        if len(messages) > self.limit:
            raise self.bad(f"A batch may contain at most {self.limit} messages.", 422)
        deliveries, own = [], []
        oversized = _oversized(body, messages, self.max_message_bytes)
        for message, size in zip(messages, oversized, strict=True):
            problem = None
            to = str(message.get("To", "")) if isinstance(message, dict) else ""
            email = bare_address(to) if "," not in to else None
            if size is not None:
                problem = f"300: The message is {size} bytes, over the 10 MB a message may be."
            elif not isinstance(message, dict) or not bare_address(str(message.get("From", ""))):
                problem = "300: Invalid 'From' address."
            elif not email:
                problem = "300: Invalid 'To' address."
            elif not (message.get("HtmlBody") or message.get("TextBody")):
                problem = "300: Provide either email TextBody or HtmlBody or both."
            delivery = Delivery(email or to, None)
            if isinstance(message, dict):
                delivery.reference = (message.get("Metadata") or {}).get("ref")
                delivery.tag = message.get("Tag")
                # Postmark's default transactional stream is "outbound".
                delivery.stream = str(message.get("MessageStream") or "outbound")
                if render:
                    delivery.subject = message.get("Subject")
                    delivery.html = message.get("HtmlBody")
                    delivery.text = message.get("TextBody")
                    delivery.headers = {h["Name"]: h["Value"]
                                        for h in message.get("Headers") or []}
            deliveries.append(delivery)
            own.append(problem)
        return Parsed(deliveries, own_rejections=own, single=not batch)

    def accept(self, parsed: Parsed, rejections: list[str | None]) -> tuple[Answer, list[str]]:
        results, ids = [], []
        for delivery, reason in zip(parsed.deliveries, rejections, strict=True):
            if reason:
                code, _, text = reason.partition(": ") if reason[:3].isdigit() else \
                    ("406", "", f"You tried to send to a recipient that has been marked as "
                                f"inactive. ({reason})")
                if parsed.single:
                    # One message refused: HTTP 422 with its ErrorCode, not a 200 list.
                    raise ApiError(Answer(422, {"ErrorCode": int(code), "Message": text}))
                results.append({"ErrorCode": int(code), "Message": text, "To": delivery.email})
                ids.append("")
            else:
                message_id = str(uuid.uuid4())
                results.append({"ErrorCode": 0, "Message": "OK", "MessageID": message_id,
                                "SubmittedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "To": delivery.email})
                ids.append(message_id)
        return Answer(200, results[0] if parsed.single else results), ids


class Mailjet(Api):
    provider = "mailjet"
    limit = 50
    #: A message with what it inherits from Globals (approximate: 15 MB).
    max_message_bytes = 15_000_000

    def matches(self, path: str) -> bool:
        return path == "/v3.1/send"

    def credential(self, path: str, headers: Mapping[str, str]) -> str | None:
        auth = basic_credentials(headers)
        return f"{auth[0]}:{auth[1]}" if auth and auth[0] and auth[1] else None

    def error(self, status: int, message: str) -> Answer:
        identifier = {400: "mj-0002", 401: "mj-0001"}.get(status, "mj-0000")
        return Answer(status, {"ErrorIdentifier": str(uuid.uuid4()), "ErrorCode": identifier,
                               "StatusCode": status, "ErrorMessage": message})

    def parse(self, path: str, headers: Mapping[str, str], body: bytes,
              render: bool) -> Parsed:
        data = json_body(body)
        if not isinstance(data, dict):
            raise self.bad("Malformed JSON, please review the syntax and properties types.")
        messages = data.get("Messages")
        if not isinstance(messages, list) or not messages:
            raise self.bad("Missing or empty Messages property.")
        if len(messages) > self.limit:
            raise self.bad(f"Too many messages: at most {self.limit} a call.")
        shared = data.get("Globals") or {}
        deliveries, own = [], []
        oversized = _oversized(body, messages, self.max_message_bytes, shared)
        for message, size in zip(messages, oversized, strict=True):
            m = {**shared, **message} if isinstance(message, dict) else {}
            m["Headers"] = {**(shared.get("Headers") or {}), **(m.get("Headers") or {})}
            to = m.get("To") or []
            problem = None
            if size is not None:
                problem = f"send-0012 The message is {size} bytes, over the 15 MB limit."
            elif not bare_address(str((m.get("From") or {}).get("Email", ""))):
                problem = "send-0001 The From email address is not valid."
            elif len(to) != 1 or not bare_address(str(to[0].get("Email", ""))):
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
                message_id = str(next(message_numbers) + 288230376151711744)
                results.append({"Status": "success", "CustomID": delivery.reference or "",
                                "To": [{"Email": delivery.email,
                                        "MessageUUID": str(uuid.uuid4()),
                                        "MessageID": int(message_id),
                                        "MessageHref": "https://api.mailjet.com/v3/REST/"
                                                       f"message/{message_id}"}]})
                ids.append(message_id)
        status = 400 if any(rejections) else 200
        return Answer(status, {"Messages": results}), ids
