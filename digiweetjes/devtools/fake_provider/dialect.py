"""What every provider dialect of the fake server is made of: the base class and its helpers.

``Api`` is one provider's dialect (which paths it serves, where its credential sits, how it
parses a request into ``Delivery`` messages and how it answers); ``Parsed``, ``Answer`` and
``ApiError`` carry a request and its answer between a dialect and the server. The helpers read
what several dialects share (JSON bodies, Bearer and Basic credentials, bare addresses, form
fields), so the dialect modules hold only what differs per provider.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

#: Numbers for the message ids the dialects make up (one counter for all of them).
message_numbers = itertools.count(1)


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
    #: The request path it came in on (set by the server), e.g. ``/email`` or ``/email/batch``.
    path: str | None = None
    #: Postmark's ``MessageStream`` (``outbound``, ``broadcast``...).
    stream: str | None = None


@dataclass
class Parsed:
    deliveries: list[Delivery]
    idempotency_key: str | None = None
    #: Per delivery: a reason the provider itself refuses it (e.g. a Mailjet template error).
    own_rejections: list[str | None] | None = None
    #: What the request weighed by the provider's own byte limits (name → bytes).
    sizes: dict[str, int] = field(default_factory=dict)
    #: The provider's single-message form (Postmark ``/email``, Resend ``/emails``, Brevo
    #: without messageVersions), which answers one result instead of a list.
    single: bool = False


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An answer that refuses the request (``over_limit``: for one of its byte limits)."""

    def __init__(self, answer: Answer, *, sizes: dict[str, int] | None = None,
                 over_limit: bool = False) -> None:
        super().__init__(answer.status)
        self.answer = answer
        self.sizes = sizes or {}
        self.over_limit = over_limit


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON (how the byte limits are counted here)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def json_body(body: bytes) -> Any:
    """The parsed JSON body, or None when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of a ``Bearer`` Authorization header, or None."""
    value = headers.get("authorization", "")
    return value[7:] if value.startswith("Bearer ") and len(value) > 7 else None


def basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """User and password of a ``Basic`` Authorization header, or None."""
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


def bare_address(value: str) -> str | None:
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
    #: The provider's documented ceiling of one request body (refused with 413), if any.
    max_request_bytes: int | None = None

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

    def over_limit(self, message: str, sizes: dict[str, int], status: int = 400) -> ApiError:
        return ApiError(self.error(status, message), sizes=sizes, over_limit=True)

    def request_too_large(self, body: bytes) -> Answer | None:
        """The provider's 413 for a body over its documented ceiling, or None."""
        if self.max_request_bytes is None or len(body) <= self.max_request_bytes:
            return None
        return self.error(413, f"request body of {len(body)} bytes is over the limit of "
                               f"{self.max_request_bytes}")


def form_fields(content_type: str, body: bytes) -> list[tuple[str, str]] | None:
    """The fields of a urlencoded or multipart form body, in order; None if unreadable."""
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
