"""The fake provider server: the six sending APIs on one loopback port, faults on request.

A stdlib ``ThreadingHTTPServer`` (HTTP/1.1 keep-alive, one thread per connection), so a fixed
latency sleeps in its own thread and never serialises requests, and a fault can close a socket
without answering, which an ASGI server cannot. State (recording, idempotency keys, faults) sits
behind one lock, held only for bookkeeping, never while parsing, rendering or sleeping.

Control API (JSON, not subject to latency or faults):

- ``GET  /_fake/health``                     ``{"ok": true}``
- ``GET  /_fake/deliveries[?email=a@b]``      totals, distinct recipients, duplicates (address →
  count, those above 1), per provider, requests, replays, rejections; with ``email`` its count
- ``GET  /_fake/messages[?provider=&email=&limit=]`` the last recorded messages (bounded ring;
  final subject/html/text/headers when ``keep_bodies`` is on)
- ``GET  /_fake/faults``, ``POST /_fake/faults`` (JSON fields of ``Faults``, merged)
- ``POST /_fake/reset[?faults=1]``            forget recordings and idempotency keys (and faults)
- ``GET|POST /_fake/suppressions``            the entries the list endpoints serve
  (``suppression_lists``)

Memory stays bounded for a million recipients: a count per address, a ring of recent messages,
and, with ``record_path``, an append-only JSONL file of every delivery.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import re
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from digiweetjes.devtools.fake_provider.apis import api_for, search
from digiweetjes.devtools.fake_provider.dialect import Answer, Api, ApiError, Delivery
from digiweetjes.devtools.fake_provider.rate_window import RequestClock
from digiweetjes.devtools.fake_provider.suppression_lists import SuppressionLists

log = logging.getLogger("digiweetjes.fake_provider")

FAULT_KINDS = ("ok", "5xx", "429", "timeout_before", "timeout_after", "drop_before",
               "drop_after")


@dataclass
class Faults:
    """What the fake does wrong, and how slowly. Rates are probabilities per API request."""

    seed: int | None = None
    latency_ms: float = 0.0
    error_5xx_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after_s: float = 1.0
    #: Hang (then close without answering) before recording / after recording.
    timeout_before_rate: float = 0.0
    timeout_after_rate: float = 0.0
    hang_s: float = 30.0
    #: Close the connection without answering, before / after recording.
    drop_before_rate: float = 0.0
    drop_after_rate: float = 0.0
    #: Recipients whose address matches this regex are rejected (per message where the
    #: provider reports per message, else the whole request).
    reject_pattern: str | None = None
    #: Credentials accepted (the provider's key/token, Mailjet ``public:private``); None: any.
    accepted_keys: list[str] | None = None
    #: Fault kinds applied to the next API requests in order, before any rate is drawn.
    script: list[str] = field(default_factory=list)
    #: Render each delivery as the recipient would read it, and keep it in ``/_fake/messages``.
    keep_bodies: bool = False
    #: The provider's rate limit, modelled (``rate_window``): 429 past this many a second.
    requests_per_second: float | None = None

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        for kind in changes.get("script") or []:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if changes.get("reject_pattern"):
            re.compile(changes["reject_pattern"])
        for name, value in changes.items():
            setattr(self, name, list(value) if name == "script" else value)


class State:
    """Recordings, idempotency keys and faults, shared by the handler threads."""

    def __init__(self, faults: Faults | None = None, record_path: Path | None = None,
                 keep_messages: int = 10_000) -> None:
        self.lock = threading.Lock()
        self.faults = faults or Faults()
        self.random = random.Random(self.faults.seed)
        self.record_path = record_path
        self._record_file = record_path.open("a", encoding="utf-8") if record_path else None
        self.keep_messages = keep_messages
        self.stopping = threading.Event()
        self.reset()

    def reset(self, faults: bool = False) -> None:
        with self.lock:
            self.counts: dict[str, int] = {}
            self.total = 0
            self.by_provider: Counter[str] = Counter()
            self.requests: Counter[str] = Counter()
            self.replays = 0
            self.rejected = 0
            self.messages: deque[dict[str, Any]] = deque(maxlen=self.keep_messages)
            self.idempotency: dict[tuple[str, str], tuple[float, str, Answer | None]] = {}
            self.references = search.ReferenceIndex()
            self.suppressions = SuppressionLists()
            self.request_clock = RequestClock()
            if faults:
                self.faults = Faults()
                self.random = random.Random(None)

    def set_faults(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.faults.update(changes)
            if "seed" in changes:
                self.random = random.Random(self.faults.seed)
            return asdict(self.faults)

    def next_fault(self) -> str:
        with self.lock:
            f = self.faults
            if f.script:
                return f.script.pop(0)
            draw = self.random.random
            for kind, rate in (("drop_before", f.drop_before_rate),
                               ("timeout_before", f.timeout_before_rate),
                               ("5xx", f.error_5xx_rate), ("429", f.rate_limit_rate),
                               ("drop_after", f.drop_after_rate),
                               ("timeout_after", f.timeout_after_rate)):
                if rate and draw() < rate:
                    return kind
            return "ok"

    def record(self, provider: str, deliveries: list[Delivery], ids: list[str],
               key: str | None) -> None:
        keep = self.faults.keep_bodies
        lines = []
        with self.lock:
            for delivery, message_id in zip(deliveries, ids, strict=True):
                if not message_id:
                    self.rejected += 1
                    continue
                self.total += 1
                self.by_provider[provider] += 1
                self.counts[delivery.email] = self.counts.get(delivery.email, 0) + 1
                self.references.remember(provider, delivery.reference, delivery.email, message_id)
                entry = {"provider": provider, "email": delivery.email,
                         "reference": delivery.reference, "message_id": message_id,
                         "idempotency_key": key, "tag": delivery.tag, "path": delivery.path,
                         "stream": delivery.stream}
                if keep:
                    entry.update(subject=delivery.subject, html=delivery.html,
                                 text=delivery.text, headers=delivery.headers)
                self.messages.append(entry)
                if self._record_file:
                    lines.append(json.dumps(entry, ensure_ascii=False))
            if lines and self._record_file:
                self._record_file.write("\n".join(lines) + "\n")
                self._record_file.flush()

    def deliveries(self, email: str | None = None) -> dict[str, Any]:
        with self.lock:
            duplicates = {e: n for e, n in self.counts.items() if n > 1}
            summary: dict[str, Any] = {
                "total": self.total, "distinct": len(self.counts),
                "duplicates": dict(list(duplicates.items())[:1000]),
                "duplicate_count": len(duplicates),
                "by_provider": dict(self.by_provider), "requests": dict(self.requests),
                "replays": self.replays, "rejected": self.rejected,
            }
            if email is not None:
                summary["count"] = self.counts.get(email, 0)
            return summary

    def recent(self, provider: str | None, email: str | None, limit: int) -> list[dict]:
        with self.lock:
            found = [m for m in self.messages if (provider is None or m["provider"] == provider)
                     and (email is None or m["email"] == email)]
        return found[-limit:]

    def close(self) -> None:
        self.stopping.set()
        if self._record_file:
            self._record_file.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self.server.app.handle(self, "GET")

    def do_POST(self) -> None:
        self.server.app.handle(self, "POST")


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: FakeProviderApp) -> None:
        self.app = app
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # Dropped and hung connections end in socket errors on purpose.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Dropped(Exception):
    """The connection was closed on purpose without an answer."""


class FakeProviderApp:
    """Routes requests to the control API or a provider's dialect."""

    def __init__(self, state: State) -> None:
        self.state = state

    # -- plumbing --

    def handle(self, h: _Handler, method: str) -> None:
        try:
            body = self._read_body(h)
            url = urlsplit(h.path)
            headers = {k.lower(): v for k, v in h.headers.items()}
            if url.path.startswith("/_fake/"):
                answer = self._control(method, url.path, parse_qs(url.query), body)
            elif method == "GET" and (listed := self.state.suppressions.answer(
                    url.path, parse_qs(url.query), headers, self.state)) is not None:
                answer = listed
            elif (searched := search.answer(self, h, method, url, headers)) is not None:
                answer = searched
            else:
                api = api_for(url.path)
                if api is None or method != "POST":
                    answer = Answer(404, {"message": f"no such endpoint: {method} {url.path}"})
                else:
                    answer = self._provider(h, api, url.path, headers, body)
            self._write(h, answer)
        except _Dropped:
            h.close_connection = True

    def _read_body(self, h: _Handler) -> bytes:
        if h.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    h.rfile.readline()
                    return b"".join(chunks)
                chunks.append(h.rfile.read(size))
                h.rfile.readline()
        length = int(h.headers.get("content-length") or 0)
        return h.rfile.read(length) if length else b""

    def _write(self, h: _Handler, answer: Answer) -> None:
        if answer.body is None:
            payload = b""
        elif isinstance(answer.body, bytes):
            payload = answer.body
        else:
            payload = json.dumps(answer.body, ensure_ascii=False).encode()
        h.send_response(answer.status)
        if payload:
            h.send_header("Content-Type", "application/json" if not isinstance(
                answer.body, bytes) else "text/plain; charset=utf-8")
        h.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            h.send_header(name, value)
        h.end_headers()
        if payload:
            h.wfile.write(payload)

    def _drop(self, h: _Handler, hang: bool) -> None:
        if hang:
            self.state.stopping.wait(self.state.faults.hang_s)
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)
        h.connection.close()
        raise _Dropped

    # -- the providers --

    def _provider(self, h: _Handler, api: Api, path: str, headers: dict[str, str],
                  body: bytes) -> Answer:
        state = self.state
        with state.lock:
            state.requests[api.provider] += 1
            over_rate = state.request_clock.arrived(state.faults.requests_per_second)
            faults = state.faults
            accepted_keys = faults.accepted_keys
            latency = faults.latency_ms / 1000.0
            reject = re.compile(faults.reject_pattern) if faults.reject_pattern else None
            render = faults.keep_bodies
            retry_after = faults.retry_after_s
        if latency:
            time.sleep(latency)
        credential = api.credential(path, headers)
        if credential is None or (accepted_keys is not None and credential not in accepted_keys):
            return api.unauthorized()
        if over_rate is not None:
            return api.too_many(over_rate)
        fault = state.next_fault()
        if fault == "drop_before":
            self._drop(h, hang=False)
        if fault == "timeout_before":
            self._drop(h, hang=True)
        if fault == "5xx":
            return api.server_error()
        if fault == "429":
            return api.too_many(retry_after)
        try:
            parsed = api.parse(path, headers, body, render)
        except ApiError as exc:
            return exc.answer
        for delivery in parsed.deliveries:
            delivery.path = path
        key = parsed.idempotency_key
        slot = (api.provider, key) if key and api.idempotency_ttl else None
        digest = hashlib.sha256(body).hexdigest() if slot else ""
        if slot:
            replay = self._claim_key(api, slot, digest)
            if replay is not None:
                return replay
        rejections = list(parsed.own_rejections or [None] * len(parsed.deliveries))
        if reject:
            rejections = [r or (f"{d.email}: rejected by the fake provider's reject_pattern"
                                if reject.search(d.email) else None)
                          for d, r in zip(parsed.deliveries, rejections, strict=True)]
        try:
            answer, ids = api.accept(parsed, rejections)
        except ApiError as exc:
            if slot:
                with state.lock:
                    state.idempotency.pop(slot, None)
            with state.lock:
                state.rejected += len(parsed.deliveries)
            return exc.answer
        answer.headers = {**api.success_headers(), **answer.headers}
        state.record(api.provider, parsed.deliveries, ids, key)
        if slot:
            with state.lock:
                state.idempotency[slot] = (time.monotonic(), digest, answer)
        if fault == "drop_after":
            self._drop(h, hang=False)
        if fault == "timeout_after":
            self._drop(h, hang=True)
        return answer

    def _claim_key(self, api: Api, slot: tuple[str, str], digest: str) -> Answer | None:
        """None when this request owns the key now; else the answer a repeat gets."""
        state = self.state
        now = time.monotonic()
        with state.lock:
            seen = state.idempotency.get(slot)
            if seen is not None and now - seen[0] > (api.idempotency_ttl or 0):
                seen = None
            if seen is None:
                state.idempotency[slot] = (now, digest, None)
                return None
            _, first_digest, first_answer = seen
            if first_answer is None:
                if api.provider == "resend":
                    return api.error(409, "Another request with the same idempotency key is "
                                          "in progress.", "concurrent_idempotent_requests")
                return api.too_many(1)
            if api.provider == "resend" and first_digest != digest:
                return api.error(409, "Same idempotency key used with a different request "
                                      "body.", "invalid_idempotent_request")
            state.replays += 1
            return first_answer

    # -- the control API --

    def _control(self, method: str, path: str, query: dict[str, list[str]],
                 body: bytes) -> Answer:
        state = self.state
        one = {k: v[-1] for k, v in query.items()}
        if path == "/_fake/health":
            return Answer(200, {"ok": True})
        if path == "/_fake/deliveries" and method == "GET":
            return Answer(200, state.deliveries(one.get("email")))
        if path == "/_fake/messages" and method == "GET":
            limit = int(one.get("limit", "100"))
            return Answer(200, {"messages": state.recent(one.get("provider"), one.get("email"),
                                                         limit)})
        if path == "/_fake/faults" and method == "GET":
            with state.lock:
                return Answer(200, asdict(state.faults))
        if path == "/_fake/faults" and method == "POST":
            try:
                changes = json.loads(body or b"{}")
                return Answer(200, state.set_faults(changes))
            except (ValueError, TypeError, re.error) as exc:
                return Answer(400, {"message": str(exc)})
        if path == "/_fake/suppressions":
            return state.suppressions.control(method, body)
        if path == "/_fake/reset" and method == "POST":
            state.reset(faults=one.get("faults") in ("1", "true"))
            return Answer(200, {"ok": True})
        return Answer(404, {"message": f"no such control endpoint: {method} {path}"})
