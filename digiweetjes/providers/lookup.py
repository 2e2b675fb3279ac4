"""Asking a provider what it accepted: one delivery at a time, by its per-recipient reference.

``look_up(provider, query)`` answers one of three things for a ``Query`` (the delivery's
reference and address):

- ``accepted``: the provider holds a message carrying that reference (with its message id);
- ``not_found``: it holds none. Search indexes lag, so the caller decides whether "not found"
  may mean "not accepted" (``sending.reconcile`` waits a settle time before it does);
- ``unknown``: this provider or account cannot be asked (the reason says why, in Dutch: it ends
  up in ``digiweetjes status``).

A failed request raises the provider errors of ``providers.http`` (a search is a read, so the
caller may simply ask again); a refused account (401) raises ``PermanentProviderError``.

Which provider can be asked, and how (``providers.searches`` holds the four requests):

- Postmark: outbound message search filtered by ``metadata_ref`` (our ``Metadata.ref``);
- Mailgun: the events of the recipient (``event=accepted``), matched on the ``v:`` user variable;
- Mailjet: the message resource filtered by ``CustomID``;
- SendGrid: Email Activity, a paid add-on: 403/404 means the account lacks it (``unknown``);
- Brevo and Resend: no documented search by our reference; they honour idempotency keys, so an
  interrupted batch is replayed under its key while the key lives (``unknown`` otherwise);
- the outbox: nothing to ask (``unknown``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from digiweetjes.providers.base import Provider


@dataclass(frozen=True)
class Query:
    """One delivery to look for: its reference (what the provider echoes) and its address."""

    reference: str
    email: str | None


@dataclass(frozen=True)
class Lookup:
    """What the provider says about one reference."""

    reference: str
    outcome: Literal["accepted", "not_found", "unknown"]
    message_id: str | None = None
    #: Why the outcome is unknown (Dutch), or None.
    reason: str | None = None


#: (adapter, query) → Lookup: one search for one delivery.
Search = Callable[[Any, Query], Lookup]

NO_SEARCH = {
    "brevo": "Brevo kan niet bevraagd worden op onze referentie; binnen 30 minuten herhaalt "
             "`send` de batch onder dezelfde idempotentiesleutel (zonder dubbel), daarna blijft "
             "het onzeker: verstuur met --include-uncertain als een tweede exemplaar geen kwaad "
             "kan",
    "resend": "Resend kan niet bevraagd worden op onze referentie; binnen 24 uur herhaalt "
              "`send` de batch onder dezelfde idempotentiesleutel (zonder dubbel), daarna blijft "
              "het onzeker: verstuur met --include-uncertain als een tweede exemplaar geen kwaad "
              "kan",
    "outbox": "de outbox houdt geen lijst bij om na te vragen: kijk in de map outbox/ of het "
              "bestand er staat, en verstuur anders met --include-uncertain",
}


def searches() -> dict[str, Search]:
    """Provider name → its search (imported late: the searches import the adapters)."""
    from digiweetjes.providers import searches as s

    return {"postmark": s.postmark, "mailgun": s.mailgun, "mailjet": s.mailjet,
            "sendgrid": s.sendgrid}


def cannot_look_up(provider: Provider) -> str | None:
    """Why ``provider`` cannot be asked at all (Dutch), or None when it can."""
    if provider.name in searches():
        return None
    return NO_SEARCH.get(provider.name,
                         f"{provider.name} kan niet bevraagd worden op onze referentie")


def look_up(provider: Provider, query: Query) -> Lookup:
    """Ask ``provider`` whether it accepted the message with ``query.reference``."""
    search = searches().get(provider.name)
    if search is None:
        return Lookup(query.reference, "unknown", reason=cannot_look_up(provider))
    return search(provider, query)
