"""The frame the six HTTP adapters share: one pooled client and the one error boundary.

Each adapter module holds only what differs per provider (URL, auth, body shape, response
parsing, its template syntax). ``HttpProvider`` holds the rest: the pooled ``httpx.Client`` with
explicit timeouts, the single place where httpx exceptions and HTTP statuses become
``TransientProviderError`` / ``PermanentProviderError`` / ``UncertainOutcomeError``, retry-hint
and rate-limit header parsing, reading an error body once (adapters only pick their field out of
it through ``_error_message``), redaction of credentials from any error text, the
``send_batch`` frame (subject check, per-recipient header validation, results back in recipient
order) and a small cache of what an adapter renders once per batch content. Reading options and
credentials from settings, and the JSON and Basic-auth encodings, sit here with it.
"""

from __future__ import annotations

import base64
import email.utils
import json as json_module
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeVar

import httpx
import orjson

from digiweetjes.config import Secret, Settings
from digiweetjes.errors import (
    ConfigError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    UncertainOutcomeError,
)
from digiweetjes.providers.base import (
    Batch,
    BatchContent,
    Capabilities,
    Recipient,
    RecipientResult,
)
from digiweetjes.providers.limits import BodySample, PreparedRequest, check, send_fitting, weigh
from digiweetjes.providers.messages import check_content, recipient_problem

log = logging.getLogger("digiweetjes.providers")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32)

_T = TypeVar("_T")


# -- rate limits and retry hints --------------------------------------------------------------


@dataclass(frozen=True)
class RateLimitState:
    """The last rate-limit headers a provider sent (any field may be unknown)."""

    limit: int | None
    remaining: int | None
    #: Seconds from ``observed_at`` until the window resets.
    reset_after: float | None
    #: ``time.time()`` when the response arrived.
    observed_at: float


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def _reset_seconds(value: float, now: float) -> float:
    # SendGrid's X-RateLimit-Reset is an epoch; the others are seconds from now.
    return value - now if value > 1_000_000_000 else value


def retry_after_seconds(headers: httpx.Headers, now: float) -> float | None:
    """The provider's hint, in seconds, of when to retry: Retry-After first, then reset headers.

    ``Retry-After`` may be seconds or an HTTP date; ``x-sib-ratelimit-reset`` (Brevo) and
    ``ratelimit-reset`` (Resend) are seconds; ``X-RateLimit-Reset`` (SendGrid) is an epoch.
    """
    raw = headers.get("retry-after")
    if raw is not None:
        seconds = _number(raw)
        if seconds is None:
            try:
                seconds = email.utils.parsedate_to_datetime(raw).timestamp() - now
            except (TypeError, ValueError, IndexError):
                seconds = None
        if seconds is not None:
            return max(0.0, seconds)
    for name in ("x-sib-ratelimit-reset", "ratelimit-reset", "x-ratelimit-reset"):
        value = _number(headers.get(name))
        if value is not None:
            return max(0.0, _reset_seconds(value, now))
    return None


def rate_limit_state(headers: httpx.Headers, now: float) -> RateLimitState | None:
    """The rate-limit headers of a response, whichever family the provider uses, or None."""
    for prefix in ("x-sib-ratelimit-", "ratelimit-", "x-ratelimit-"):
        limit = _number(headers.get(prefix + "limit"))
        remaining = _number(headers.get(prefix + "remaining"))
        reset = _number(headers.get(prefix + "reset"))
        if limit is None and remaining is None and reset is None:
            continue
        return RateLimitState(
            limit=None if limit is None else int(limit),
            remaining=None if remaining is None else int(remaining),
            reset_after=None if reset is None else max(0.0, _reset_seconds(reset, now)),
            observed_at=now,
        )
    return None


def encode_json(value: Any) -> bytes:
    """A request body, byte for byte as httpx's ``json=`` encodes it (compact, UTF-8)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        # What orjson refuses (non-string keys, integers past 64 bits) the standard library
        # still writes, as httpx would. (Our bodies carry no floats, where the two differ:
        # orjson writes NaN as null, httpx refuses it.)
        return json_module.dumps(value, ensure_ascii=False, separators=(",", ":"),
                                 allow_nan=False).encode()


def basic_auth(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- the HTTP adapter frame -------------------------------------------------------------------


def option(options: Mapping[str, object], key: str, *, required: bool = True,
           default: str | None = None) -> str | None:
    """A plain provider option from settings; missing and required names its variable."""
    value = options.get(key, default)
    if isinstance(value, Secret):
        value = value.reveal()
    if value in (None, "") and required:
        raise ConfigError(f"DIGIWEETJES_PROVIDER_{key.upper()} is niet ingesteld")
    return None if value in (None, "") else str(value)


def secret_option(options: Mapping[str, object], key: str) -> Secret:
    """A credential from settings, as a ``Secret``; missing names its variable."""
    value = options.get(key)
    if isinstance(value, str):
        value = Secret(value)
    if not isinstance(value, Secret) or not value:
        raise ConfigError(f"DIGIWEETJES_PROVIDER_{key.upper()} is niet ingesteld")
    return value


class HttpProvider:
    """Base of the six HTTP adapters: one pooled client and the one error boundary.

    Subclasses set ``name``, ``capabilities``, ``default_base_url`` and implement
    ``_auth_headers``, ``_prepare`` (the request as it would leave, ``providers.limits``) and
    ``_send``, which sends it with ``_post_checked`` and parses the answer in recipient order.
    ``_error_message`` may be overridden to pick the provider's words out of an error body.
    """

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    default_base_url: ClassVar[str]
    _prepare: Callable[[BatchContent, Sequence[Recipient], str | None], PreparedRequest]
    #: Batch contents whose rendering an adapter keeps (a send has one; a few cover overlaps).
    rendered_contents: ClassVar[int] = 4

    def __init__(self, credentials: Sequence[Secret], *, base_url: str | None = None,
                 transport: httpx.BaseTransport | None = None,
                 client: httpx.Client | None = None, timeout: httpx.Timeout | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self._credentials = tuple(credentials)
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self._owns_client = client is None
        self._client = client or httpx.Client(
            transport=transport, timeout=timeout or DEFAULT_TIMEOUT, limits=DEFAULT_LIMITS,
            follow_redirects=False)
        self._now = now
        self._lock = threading.Lock()
        self._rate_limit: RateLimitState | None = None
        # id(content) -> (content, rendering); the content is kept so that its id stays its own.
        self._rendered: dict[int, tuple[BatchContent, Any]] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def __enter__(self) -> HttpProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release connections (only those of a client this adapter created)."""
        if self._owns_client:
            self._client.close()

    @property
    def rate_limit(self) -> RateLimitState | None:
        """The rate-limit headers of the last response that had any (None if never seen)."""
        return self._rate_limit

    # -- the send_batch frame --

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        """Send one batch; see ``digiweetjes.providers.base`` for the outcomes."""
        max_batch = self.capabilities.max_batch
        if len(batch.recipients) > max_batch:
            raise ValueError(f"{self.name} takes at most {max_batch} recipients a batch, "
                             f"got {len(batch.recipients)}: chunk with providers.messages.chunked")
        check_content(batch.content)
        results: dict[int, RecipientResult] = {}
        valid: list[Recipient] = []
        positions: list[int] = []
        for index, recipient in enumerate(batch.recipients):
            problem = recipient_problem(recipient)
            if problem:
                results[index] = RecipientResult(recipient.reference, "failed", reason=problem)
            else:
                valid.append(recipient)
                positions.append(index)
        if valid:
            sent = send_fitting(lambda rs: self._send(batch.content, rs, batch.idempotency_key),
                                valid, self._failed, self.name)
            results.update(zip(positions, sent, strict=True))
        return [results[i] for i in range(len(batch.recipients))]

    def measure(self, content: BatchContent, recipients: Sequence[Recipient]) -> BodySample:
        """The request for two sample recipients, weighed (``batch_size_for``)."""
        return weigh(self._prepare, content, recipients)

    def _post_checked(self, request: PreparedRequest, count: int, **post: Any) -> httpx.Response:
        """POST ``request`` once it is inside the provider's documented byte limits (``post``:
        ``accept_status`` and more ``headers``, as ``_post`` takes them)."""
        check(self.name, self.capabilities.byte_limits, request, count)
        headers = {**request.headers, **(post.pop("headers", None) or {})}
        return self._post(request.path, content=request.body, headers=headers, **post)

    def _send(self, content: BatchContent, recipients: Sequence[Recipient],
              idempotency_key: str | None) -> list[RecipientResult]:
        raise NotImplementedError

    def send_transactional(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        """One service mail on the provider's single-message path, without List-Unsubscribe;
        the same checks and error boundary as ``send_batch``."""
        check_content(content)
        problem = recipient_problem(recipient, require_unsubscribe_url=False)
        if problem:
            return RecipientResult(recipient.reference, "failed", reason=problem)
        return self._send_one(content, recipient)

    def _send_one(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        raise NotImplementedError

    def _auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    def _once_per_content(self, content: BatchContent,
                          render: Callable[[BatchContent], _T]) -> _T:
        """``render(content)``, worked out on the first batch of ``content`` and kept."""
        entry = self._rendered.get(id(content))
        if entry is not None and entry[0] is content:
            return entry[1]
        value = render(content)
        with self._lock:
            while len(self._rendered) >= self.rendered_contents:
                del self._rendered[next(iter(self._rendered))]
            self._rendered[id(content)] = (content, value)
        return value

    # -- the error boundary --

    def _post(self, path: str, *, json: Any = None, content: bytes | None = None,
              headers: Mapping[str, str] | None = None,
              accept_status: Callable[[httpx.Response], bool] | None = None) -> httpx.Response:
        """POST to the provider; every failure leaves as one of the three provider errors.

        ``accept_status`` lets an adapter take a non-2xx response as a body to parse (Mailjet's
        per-message errors arrive with HTTP 400).
        """
        request_headers = {"Accept": "application/json", **self._auth_headers(),
                           **(headers or {})}
        if json is not None:
            # orjson writes the same bytes as httpx's json= (compact, UTF-8, no NaN) at a
            # twentieth of the cost: a Brevo batch is ~2 MB of JSON.
            content = encode_json(json)
            request_headers.setdefault("Content-Type", "application/json")
        url = self.base_url + path
        try:
            response = self._client.post(url, content=content, headers=request_headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached the provider: safe to retry.
            raise TransientProviderError(
                f"{self.name}: geen verbinding ({type(exc).__name__})") from exc
        except (httpx.WriteTimeout, httpx.WriteError) as exc:
            # The body was not fully written, so the provider cannot have accepted it.
            raise TransientProviderError(f"{self.name}: de aanvraag kon niet verstuurd worden "
                                         f"({type(exc).__name__})") from exc
        except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as exc:
            raise UncertainOutcomeError(
                f"{self.name}: geen antwoord nadat de aanvraag verstuurd was "
                f"({type(exc).__name__}); misschien is ze toch aanvaard") from exc
        except httpx.HTTPError as exc:
            raise UncertainOutcomeError(
                f"{self.name}: de aanvraag mislukte ({type(exc).__name__}); misschien is ze "
                "toch aanvaard") from exc
        now = self._now()
        state = rate_limit_state(response.headers, now)
        if state is not None:
            self._rate_limit = state
        log.debug("%s POST %s -> %s", self.name, path, response.status_code)
        if response.is_success or (accept_status is not None and accept_status(response)):
            return response
        raise self._error_for(response, now)

    def _get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """GET a JSON document (the list endpoints); failures leave as provider errors.

        A read changes nothing at the provider, so every transport failure is transient;
        HTTP statuses are translated (and credentials redacted) as for ``_post``.
        """
        headers = {"Accept": "application/json", **self._auth_headers()}
        try:
            response = self._client.get(self.base_url + path, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientProviderError(
                f"{self.name}: geen antwoord op GET {path} ({type(exc).__name__})") from exc
        now = self._now()
        state = rate_limit_state(response.headers, now)
        if state is not None:
            self._rate_limit = state
        log.debug("%s GET %s -> %s", self.name, path, response.status_code)
        if not response.is_success:
            raise self._error_for(response, now)
        try:
            return response.json()
        except ValueError as exc:
            raise TransientProviderError(
                f"{self.name}: het antwoord op GET {path} is geen JSON") from exc

    def _error_for(self, response: httpx.Response, now: float) -> ProviderError:
        status = response.status_code
        reason = self._redact(self._error_reason(response))[:500]
        message = f"{self.name}: HTTP {status}" + (f": {reason}" if reason else "")
        if status == 429 or status >= 500 or status == 408:
            return TransientProviderError(
                message, retry_after=retry_after_seconds(response.headers, now),
                status_code=status)
        return PermanentProviderError(message, status_code=status)

    def _error_reason(self, response: httpx.Response) -> str:
        """The provider's own words for a refusal: its error body, read once."""
        text = response.text.strip()
        try:
            payload: object = response.json()
        except ValueError:
            payload = text
        reason = self._error_message(payload)
        if reason is not None:
            return reason
        if isinstance(payload, dict):
            for key in ("message", "Message", "error", "ErrorMessage"):
                if isinstance(payload.get(key), str):
                    return payload[key]
        return text

    def _error_message(self, payload: object) -> str | None:
        """Override to pick the provider's words out of an error body.

        ``payload`` is the parsed JSON, or the stripped text where the body is not JSON. None
        falls back to the common fields (``message``, ``error``...) and then the whole text.
        """
        return None

    def _redact(self, text: str) -> str:
        """``text`` without any credential in it (providers sometimes echo what they got)."""
        for secret in self._credentials:
            value = secret.reveal()
            if value and len(value) >= 4:
                text = text.replace(value, "[redacted]")
        return text

    def _ok(self, recipient: Recipient, message_id: str | None) -> RecipientResult:
        return RecipientResult(recipient.reference, "sent", message_id=message_id)

    def _failed(self, recipient: Recipient, reason: str) -> RecipientResult:
        return RecipientResult(recipient.reference, "failed", reason=self._redact(reason)[:500])


class ApiKeyProvider(HttpProvider):
    """An adapter authenticated by one API key (``DIGIWEETJES_PROVIDER_API_KEY``)."""

    def __init__(self, api_key: Secret, *, base_url: str | None = None,
                 transport: httpx.BaseTransport | None = None,
                 client: httpx.Client | None = None,
                 timeout: httpx.Timeout | None = None) -> None:
        super().__init__([api_key], base_url=base_url, transport=transport, client=client,
                         timeout=timeout)
        self._api_key = api_key

    @classmethod
    def from_settings(cls, settings: Settings,
                      transport: httpx.BaseTransport | None = None) -> Self:
        """From ``DIGIWEETJES_PROVIDER_API_KEY`` (and ``_BASE_URL``)."""
        opts = settings.provider_options
        return cls(secret_option(opts, "api_key"),
                   base_url=option(opts, "base_url", required=False), transport=transport)
