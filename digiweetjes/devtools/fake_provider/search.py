"""The fake's search endpoints: what each provider says it accepted, found by our reference.

``ReferenceIndex`` remembers, per provider, the reference → (message id, address) of every
accepted message (bounded: the oldest are forgotten past ``limit``, which is far above what a
test sends), and each recipient's references for Mailgun's per-recipient events. ``route``
picks the handler of a GET path; each handler answers in its provider's documented shape:

- Postmark ``GET /messages/outbound`` (``count`` and ``offset`` required; ``recipient``,
  ``metadata_ref``): ``{"TotalCount", "Messages": [{"MessageID", "Metadata", "Recipients"...}]}``
- Mailgun ``GET /v3/{domain}/events`` (``event``, ``recipient``, ``limit``): ``{"items":
  [{"event": "accepted", "recipient", "user-variables", "message": {"headers":
  {"message-id"}}}], "paging": {"next"...}}``, message ids without angle brackets
- Mailjet ``GET /v3/REST/message`` (``CustomID``): ``{"Count", "Data": [{"ID", "CustomID",
  "Status"}], "Total"}``
- SendGrid ``GET /v3/messages`` (``limit``, ``query`` with ``to_email="…"`` and
  ``unique_args['ref']="…"``): ``{"messages": [{"msg_id", "to_email", "status"...}]}``

The fake has no index lag: a message is found as soon as its request was recorded.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlencode

from digiweetjes.devtools.fake_provider.dialect import Answer

#: Accepted messages remembered per provider (tests send at most ~100,000).
DEFAULT_LIMIT = 200_000


@dataclass(frozen=True)
class Accepted:
    message_id: str
    email: str
    at: float


class ReferenceIndex:
    """Per provider: reference → the accepted message, and address → its references."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._by_reference: dict[tuple[str, str], Accepted] = {}
        self._by_email: dict[tuple[str, str], list[str]] = {}

    def remember(self, provider: str, reference: str | None, email: str,
                 message_id: str) -> None:
        if not reference or not message_id:
            return
        with self._lock:
            if len(self._by_reference) >= self.limit:
                (old_provider, old_ref), old = next(iter(self._by_reference.items()))
                del self._by_reference[(old_provider, old_ref)]
                refs = self._by_email.get((old_provider, old.email), [])
                if old_ref in refs:
                    refs.remove(old_ref)
            self._by_reference[(provider, reference)] = Accepted(message_id, email, time.time())
            self._by_email.setdefault((provider, email), []).append(reference)

    def find(self, provider: str, reference: str) -> Accepted | None:
        with self._lock:
            return self._by_reference.get((provider, reference))

    def of_email(self, provider: str, email: str) -> list[tuple[str, Accepted]]:
        with self._lock:
            refs = list(self._by_email.get((provider, email), []))
            return [(r, self._by_reference[(provider, r)]) for r in refs
                    if (provider, r) in self._by_reference]


Query = dict[str, str]
#: (index, origin of the request's URL, path, query) → answer.
Handler = Callable[[ReferenceIndex, str, str, Query], Answer]


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def postmark(index: ReferenceIndex, origin: str, path: str, query: Query) -> Answer:
    try:
        count, offset = int(query["count"]), int(query["offset"])
    except (KeyError, ValueError):
        return Answer(422, {"ErrorCode": 1, "Message": "count and offset are required."})
    if count > 500 or count + offset > 10_000:
        return Answer(422, {"ErrorCode": 1, "Message": "count is at most 500 and count + "
                                                       "offset at most 10,000."})
    reference = query.get("metadata_ref")
    unknown_metadata = any(k.startswith("metadata_") and k != "metadata_ref" for k in query)
    found = index.find("postmark", reference) if reference and not unknown_metadata else None
    if found is not None and query.get("recipient") not in (None, found.email):
        found = None
    messages = [] if found is None else [{
        "Tag": None, "MessageID": found.message_id, "To": [{"Email": found.email,
                                                             "Name": None}],
        "Recipients": [found.email], "ReceivedAt": _stamp(found.at), "Status": "Sent",
        "Metadata": {"ref": reference}, "MessageStream": query.get("messagestream")}]
    return Answer(200, {"TotalCount": len(messages), "Messages": messages[offset:][:count]})


def mailgun(index: ReferenceIndex, origin: str, path: str, query: Query) -> Answer:
    email = query.get("recipient")
    if query.get("event", "accepted") != "accepted" or not email:
        items = []
    else:
        items = [{"event": "accepted", "id": accepted.message_id.strip("<>")[:22],
                  "timestamp": accepted.at, "recipient": email,
                  "user-variables": {"digiweetjes-ref": reference},
                  "message": {"headers": {"message-id": accepted.message_id.strip("<>")}}}
                 for reference, accepted in reversed(index.of_email("mailgun", email))]
    limit = min(300, int(query.get("limit", "300") or 300))
    page = int(query.get("page", "0") or 0)
    chunk = items[page * limit:(page + 1) * limit]
    base = f"{path}?" + urlencode({"page": page + 1, "limit": limit, "recipient": email or "",
                                   "event": "accepted"})
    return Answer(200, {"items": chunk, "paging": {"next": origin + base}})


def mailjet(index: ReferenceIndex, origin: str, path: str, query: Query) -> Answer:
    reference = query.get("CustomID")
    found = index.find("mailjet", reference) if reference else None
    data = [] if found is None else [{
        "ID": int(found.message_id), "CustomID": reference, "Status": "sent",
        "ArrivedAt": _stamp(found.at), "ContactAlt": found.email}]
    return Answer(200, {"Count": len(data), "Data": data, "Total": len(data)})


_SENDGRID_FIELD = re.compile(r"(to_email|unique_args\['ref'\])=\"([^\"]*)\"")


def sendgrid(index: ReferenceIndex, origin: str, path: str, query: Query) -> Answer:
    conditions = dict(_SENDGRID_FIELD.findall(query.get("query", "")))
    reference = conditions.get("unique_args['ref']")
    found = index.find("sendgrid", reference) if reference else None
    if found is not None and conditions.get("to_email") not in (None, found.email):
        found = None
    messages = [] if found is None else [{
        "msg_id": f"{found.message_id}.filterdrecv-fake-{reference[:8]}.0",
        "from_email": "", "subject": "", "to_email": found.email, "status": "delivered",
        "opens_count": 0, "clicks_count": 0, "last_event_time": _stamp(found.at)}]
    return Answer(200, {"messages": messages})


_MAILGUN_EVENTS = re.compile(r"/v3/[^/]+/events")
ROUTES: tuple[tuple[str, Callable[[str], bool], Handler], ...] = (
    ("postmark", lambda p: p == "/messages/outbound", postmark),
    ("mailgun", lambda p: bool(_MAILGUN_EVENTS.fullmatch(p)), mailgun),
    ("mailjet", lambda p: p == "/v3/REST/message", mailjet),
    ("sendgrid", lambda p: p == "/v3/messages", sendgrid),
)


def answer(app: Any, h: Any, method: str, url: SplitResult,
           headers: dict[str, str]) -> Answer | None:
    """The server ``app``'s answer to a search request on connection ``h``, or None when it is
    not one: the provider's credentials and the same fault draws as its sending (a drop closes
    the connection without an answer), then the handler."""
    from digiweetjes.devtools.fake_provider.apis import APIS

    found = route(method, url.path)
    if found is None:
        return None
    provider, handler = found
    path, query, state = url.path, parse_qs(url.query), app.state
    api = next(a for a in APIS if a.provider == provider)
    with state.lock:
        accepted_keys = state.faults.accepted_keys
        retry_after = state.faults.retry_after_s
    credential = api.credential(path, headers)
    if credential is None or (accepted_keys is not None and credential not in accepted_keys):
        return api.unauthorized()
    fault = state.next_fault()
    if fault in ("drop_before", "drop_after", "timeout_before", "timeout_after"):
        app._drop(h, hang=fault.startswith("timeout"))
    if fault == "5xx":
        return api.server_error()
    if fault == "429":
        return api.too_many(retry_after)
    one = {k: v[-1] for k, v in query.items()}
    return handler(state.references, f"http://{headers.get('host', '')}", path, one)


def route(method: str, path: str) -> tuple[str, Handler] | None:
    """(provider, handler) of a search request, or None."""
    if method != "GET":
        return None
    return next(((provider, handler) for provider, matches, handler in ROUTES
                 if matches(path)), None)
