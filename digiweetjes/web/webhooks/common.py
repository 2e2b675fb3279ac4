"""What the six providers' webhook modules share: reading JSON, times, keys, shared secrets.

Each provider module has the same two functions, called by ``route``:

- ``verify(headers, query, body, settings, now) -> str | None`` raises ``WebhookAuthError``
  unless the request is proven to come from the provider; it returns a value that may be used
  only once (Mailgun's token), or None. ``headers`` has lower-case names.
- ``parse(body, content_type, headers) -> list[ProviderEvent]`` raises
  ``WebhookPayloadError`` when the body is not the provider's payload. One odd event (no
  address, an unknown type, a strange time) does not refuse the rest: it is stored as "other".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from digiweetjes.config import Settings
from digiweetjes.errors import WebhookAuthError, WebhookPayloadError

#: The variable holding the shared secret of the providers that do not sign (Brevo, Postmark,
#: Mailjet); named in the log when it is unset.
SHARED_SECRET_VARIABLE = "DIGIWEETJES_WEBHOOK_SECRET"


def load_json(body: bytes) -> Any:
    """The body as JSON, or WebhookPayloadError."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise WebhookPayloadError(f"the body is not JSON ({exc.msg})") from exc


def objects(value: Any, what: str) -> list[Mapping[str, Any]]:
    """A JSON array of objects, or a single object, as a list of objects."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, Mapping) for item in items):
        raise WebhookPayloadError(f"{what}: expected JSON objects")
    return items


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def text(value: object, limit: int = 320) -> str | None:
    """A string field (numbers given as JSON numbers too), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        shown = str(value).strip()
        return shown[:limit] or None
    return None


def epoch(value: object) -> datetime | None:
    """A Unix time in seconds (a number or a numeric string) as a UTC datetime, or None."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
        if isinstance(value, bool) or not math.isfinite(seconds):
            return None
        return datetime.fromtimestamp(seconds, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def iso_time(value: object) -> datetime | None:
    """An ISO 8601 time ("2026-12-01T09:28:10Z") as a UTC datetime, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def event_key(*parts: object) -> str:
    """A stable key for an event its provider gives no id: a hash of what identifies it."""
    joined = "\x1f".join("" if part is None else str(part) for part in parts)
    return "h:" + hashlib.sha256(joined.encode("utf-8")).hexdigest()


def check_age(stamp: object, now: datetime, settings: Settings, what: str) -> datetime:
    """A signed timestamp (Unix seconds) no older, nor further ahead, than the allowed age."""
    moment = epoch(stamp)
    if moment is None:
        raise WebhookAuthError(f"{what}: no usable timestamp")
    age = (now - moment).total_seconds()
    if abs(age) > settings.web.webhook_max_age_seconds:
        raise WebhookAuthError(f"{what}: timestamp {age:.0f} s away from now, more than "
                               f"{settings.web.webhook_max_age_seconds:.0f} s: refused as a "
                               "replay")
    return moment


def check_shared_secret(headers: Mapping[str, str], query: Mapping[str, str],
                        settings: Settings, provider: str) -> None:
    """For the providers that do not sign: ``DIGIWEETJES_WEBHOOK_SECRET`` as the password of
    HTTP basic auth (any user name), as a bearer token, or as ``?token=`` in the URL."""
    secret = settings.webhook_secret.reveal()
    if not secret:
        raise WebhookAuthError(f"{SHARED_SECRET_VARIABLE} is not set: {provider} webhooks "
                               "cannot be authenticated and are refused")
    offered = [value for value in (_basic_password(headers), _bearer(headers),
                                   query.get("token")) if value]
    if not offered:
        raise WebhookAuthError(f"{provider}: no secret given (basic auth, bearer or ?token=)")
    expected = secret.encode("utf-8")
    # Every offered value is compared, in constant time each, so none short-circuits.
    matches = [hmac.compare_digest(value.encode("utf-8"), expected) for value in offered]
    if not any(matches):
        raise WebhookAuthError(f"{provider}: the secret given is wrong")


def _basic_password(headers: Mapping[str, str]) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


def _bearer(headers: Mapping[str, str]) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None
