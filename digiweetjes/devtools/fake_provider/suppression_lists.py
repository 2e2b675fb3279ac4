"""The six providers' suppression list endpoints, served from entries seeded by a test.

Control API (see ``server``):

- ``POST /_fake/suppressions`` ``{provider, email, reason, ...}`` adds one entry, ``reason`` in
  the provider's own words: Postmark ``HardBounce`` / ``SpamComplaint`` / ``ManualSuppression``
  (``origin``, default ``Recipient``; ``stream``, default ``broadcast``); SendGrid the list,
  ``bounces`` (``status``, default ``5.1.1``) / ``spam_reports`` / ``unsubscribes`` / ``asm``
  (``group``); Mailgun ``bounces`` / ``unsubscribes`` / ``complaints``; Brevo a reason code
  (``hardBounce``, ``contactFlaggedAsSpam``, ``unsubscribedViaEmail``, ``adminBlocked``...);
  Mailjet anything (the contact is excluded from campaigns); Resend an origin (``bounce``,
  ``complaint``, ``manual``).
- ``GET /_fake/suppressions`` lists them; ``POST /_fake/reset`` forgets them.

The list endpoints answer each provider's documented shape and paging (the modules of
``digiweetjes.providers.suppressions`` cite the documentation) and refuse a page size above the
documented maximum, so a test proves the client stays inside it. They check the credential like
the sending endpoints and take the ``5xx`` and ``429`` faults.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any
from urllib.parse import quote

from digiweetjes.devtools.fake_provider.apis import APIS
from digiweetjes.devtools.fake_provider.dialect import Answer, Api

PROVIDERS = {api.provider: api for api in APIS}

_POSTMARK = re.compile(r"^/message-streams/([^/]+)/suppressions/dump$")
_SENDGRID = re.compile(r"^/v3/suppression/(bounces|spam_reports|unsubscribes)$")
_MAILGUN = re.compile(r"^/v3/([A-Za-z0-9.-]+)/(bounces|unsubscribes|complaints)$")
CREATED = "2026-11-30T10:00:00Z"


class SuppressionLists:
    """Seeded entries, and the list endpoints over them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    # -- the control API --

    def control(self, method: str, body: bytes) -> Answer:
        if method == "GET":
            with self._lock:
                return Answer(200, {"suppressions": list(self._entries)})
        try:
            entry = json.loads(body or b"{}")
        except ValueError:
            return Answer(400, {"message": "the body is not JSON"})
        if not isinstance(entry, dict) or entry.get("provider") not in PROVIDERS:
            return Answer(400, {"message": f"provider must be one of {sorted(PROVIDERS)}"})
        if not isinstance(entry.get("email"), str) or not isinstance(entry.get("reason"), str):
            return Answer(400, {"message": "email and reason are required"})
        with self._lock:
            entry["id"] = f"sup-{len(self._entries) + 1:06d}"
            self._entries.append(entry)
        return Answer(200, entry)

    def _of(self, provider: str, **match: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._entries if e["provider"] == provider
                    and all(e.get(k) == v for k, v in match.items())]

    # -- the list endpoints --

    def answer(self, path: str, query: dict[str, list[str]], headers: dict[str, str],
               state: Any) -> Answer | None:
        """The answer of a list endpoint, or None when ``path`` is not one."""
        route = self._route(path)
        if route is None:
            return None
        provider, serve = route
        api = PROVIDERS[provider]
        with state.lock:
            accepted = state.faults.accepted_keys
        credential = api.credential(path, headers)
        if credential is None or (accepted is not None and credential not in accepted):
            return api.unauthorized()
        fault = state.next_fault()
        if fault == "5xx":
            return api.server_error()
        if fault == "429":
            return api.too_many(1)
        one = {k: v[-1] for k, v in query.items()}
        try:
            return serve(api, path, one, headers)
        except ValueError as exc:
            return api.error(400, str(exc))

    def _route(self, path: str) -> tuple[str, Any] | None:
        if _POSTMARK.match(path):
            return "postmark", self._postmark
        if _SENDGRID.match(path) or path == "/v3/asm/suppressions":
            return "sendgrid", self._sendgrid
        if _MAILGUN.match(path):
            return "mailgun", self._mailgun
        if path == "/v3/smtp/blockedContacts":
            return "brevo", self._brevo
        if path == "/v3/REST/contact":
            return "mailjet", self._mailjet
        if path == "/suppressions":
            return "resend", self._resend
        return None

    def _postmark(self, api: Api, path: str, q: dict[str, str], h: dict[str, str]) -> Answer:
        stream = _POSTMARK.match(path).group(1)  # type: ignore[union-attr]
        entries = [e for e in self._of("postmark") if e.get("stream", "broadcast") == stream]
        return Answer(200, {"Suppressions": [
            {"EmailAddress": e["email"], "SuppressionReason": e["reason"],
             "Origin": e.get("origin", "Recipient"), "CreatedAt": CREATED} for e in entries]})

    def _sendgrid(self, api: Api, path: str, q: dict[str, str], h: dict[str, str]) -> Answer:
        if path == "/v3/asm/suppressions":
            return Answer(200, [{"email": e["email"], "group_id": 1,
                                 "group_name": e.get("group", "Digi-weetjes"),
                                 "created_at": 1796032800} for e in self._of("sendgrid",
                                                                             reason="asm")])
        name = path.rsplit("/", 1)[1]
        page = _offset_page(self._of("sendgrid", reason=name), q, "limit", "offset", 500)
        return Answer(200, [{"email": e["email"], "created": 1796032800,
                             **({"status": e.get("status", "5.1.1"), "reason": "550 unknown"}
                                if name == "bounces" else {})} for e in page])

    def _mailgun(self, api: Api, path: str, q: dict[str, str], h: dict[str, str]) -> Answer:
        name = _MAILGUN.match(path).group(2)  # type: ignore[union-attr]
        limit = _limit(q, "limit", 1000, default=100)
        entries = sorted(self._of("mailgun", reason=name), key=lambda e: e["email"])
        if q.get("page") == "next" and q.get("address"):
            entries = [e for e in entries if e["email"] > q["address"]]
        page = entries[:limit]
        base = f"http://{h.get('host', 'localhost')}{path}"
        pivot = quote(page[-1]["email"] if page else q.get("address", ""), safe="")
        return Answer(200, {
            "items": [{"address": e["email"], "code": "550" if name == "bounces" else None,
                       "created_at": "Mon, 30 Nov 2026 10:00:00 UTC", "tags": ["*"]}
                      for e in page],
            "paging": {"first": f"{base}?limit={limit}",
                       "next": f"{base}?page=next&address={pivot}&limit={limit}",
                       "previous": f"{base}?page=previous&address={pivot}&limit={limit}",
                       "last": f"{base}?page=last&limit={limit}"}})

    def _brevo(self, api: Api, path: str, q: dict[str, str], h: dict[str, str]) -> Answer:
        entries = self._of("brevo")
        page = _offset_page(entries, q, "limit", "offset", 100, default=50)
        if not page:
            return Answer(200, {"count": len(entries)})  # Brevo leaves ``contacts`` out
        return Answer(200, {"count": len(entries), "contacts": [
            {"email": e["email"], "senderEmail": "digiweetjes@example.be",
             "reason": {"code": e["reason"], "message": e["reason"]}, "blockedAt": CREATED}
            for e in page]})

    def _mailjet(self, api: Api, path: str, q: dict[str, str], h: dict[str, str]) -> Answer:
        if q.get("IsExcludedFromCampaigns") != "true":
            raise ValueError("the fake serves only IsExcludedFromCampaigns=true")
        entries = self._of("mailjet")
        page = _offset_page(entries, q, "Limit", "Offset", 1000, default=10)
        return Answer(200, {"Count": len(page), "Total": len(entries), "Data": [
            {"Email": e["email"], "ID": int(e["id"][4:]), "IsExcludedFromCampaigns": True}
            for e in page]})

    def _resend(self, api: Api, path: str, q: dict[str, str], h: dict[str, str]) -> Answer:
        limit = _limit(q, "limit", 100, default=20)
        entries = self._of("resend")
        if q.get("after"):
            entries = [e for e in entries if e["id"] > q["after"]]
        return Answer(200, {"object": "list", "has_more": len(entries) > limit, "data": [
            {"object": "suppression", "id": e["id"], "email": e["email"], "origin": e["reason"],
             "source_id": None, "created_at": CREATED} for e in entries[:limit]]})


def _limit(q: dict[str, str], name: str, maximum: int, *, default: int) -> int:
    try:
        limit = int(q.get(name, default))
    except ValueError as exc:
        raise ValueError(f"{name} is not a number") from exc
    if not 1 <= limit <= maximum:
        raise ValueError(f"{name} must be between 1 and {maximum}, got {limit}")
    return limit


def _offset_page(entries: list[dict[str, Any]], q: dict[str, str], limit_name: str,
                 offset_name: str, maximum: int, *, default: int = 500) -> list[dict[str, Any]]:
    limit = _limit(q, limit_name, maximum, default=default)
    try:
        offset = int(q.get(offset_name, 0))
    except ValueError as exc:
        raise ValueError(f"{offset_name} is not a number") from exc
    return entries[offset:offset + limit]
