"""Reconciliation: every ``uncertain`` delivery looked up at the provider by its reference.

``reconcile`` pages through a campaign's uncertain deliveries in id order (a page at a time:
bounded memory on SQLite and PostgreSQL alike), asks the provider about each
(``providers.lookup``) and records the answer at once, one page a transaction:

    uncertain ──found at the provider──────────────────► sent    (its message id kept)
              ──not found, uncertain for ≥ settle time──► queued  (fresh key: sent again)
              ──not found sooner, or cannot be asked───► uncertain, with the reason

Search indexes lag: a message accepted a moment ago may not show yet. "Not found" only means
"not accepted" once the delivery has been uncertain for ``settle`` (``updated_at``, when its
outcome became unknown, is after the request left); until then it stays uncertain ("te recent
om te beslissen"), and its ``updated_at`` is left alone so that the wait is not restarted.

Every update is conditional on the row still being ``uncertain``, so a reconcile beside a
running send, or two reconciles at once, cannot move a row twice. A failed search is asked
again with backoff; a refused account (401) stops the reconcile with the rest still uncertain.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select, update

from digiweetjes.clock import Clock
from digiweetjes.db import Database
from digiweetjes.errors import PermanentProviderError, ProviderError
from digiweetjes.models import CampaignState
from digiweetjes.providers.base import Provider
from digiweetjes.providers.lookup import Lookup, Query, cannot_look_up, look_up
from digiweetjes.sending import campaigns
from digiweetjes.sending.backoff import Backoff
from digiweetjes.sending.campaigns import QUEUED, UNCERTAIN, CampaignInfo, D, S
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.summary import WorkReport

log = logging.getLogger("digiweetjes.sending")

#: Reconcile-and-send rounds a send runs after its work (each one sends what went back).
RECONCILE_ROUNDS = 3
#: Uncertain deliveries read and recorded together.
PAGE = 100
#: Searches in flight at once.
CONCURRENCY = 8
#: Searches of one reference before its outcome counts as unknown for this run.
ATTEMPTS = 5
SEARCH_BACKOFF = Backoff(base=0.2, cap=5.0)
TOO_RECENT = ("te recent om te beslissen: {provider} vond het bericht (nog) niet, maar een "
              "zoekindex loopt achter; opnieuw afstemmen na {settle} s")


@dataclass
class ReconcileReport:
    """What one reconcile did: deliveries moved to sent, back to the queue, left uncertain."""

    checked: int = 0
    sent: int = 0
    requeued: int = 0
    uncertain: int = 0
    #: reason → deliveries left uncertain for it.
    reasons: Counter[str] = field(default_factory=Counter)
    #: Set when the reconcile stopped early (the provider refused the account).
    stopped: str | None = None


def reconcile(db: Database, provider: Provider, campaign: CampaignInfo, clock: Clock, *,
              settle: timedelta, sleep: Callable[[float], None] = time.sleep,
              rng: random.Random | None = None, page: int = PAGE,
              concurrency: int = CONCURRENCY) -> ReconcileReport:
    """Look up every uncertain delivery of ``campaign`` at ``provider`` and record the answers.

    The searches of a page run ``concurrency`` at a time (one search a delivery: hundreds of
    round trips one after the other would take minutes). A campaign marked done that gets
    deliveries back in the queue is paused, so ``status`` says that a ``send`` is due and the
    same command sends them.
    """
    report = ReconcileReport()
    why_not = cannot_look_up(provider)
    last_id = 0
    while True:
        rows = _uncertain_page(db, campaign.id, last_id, page)
        if not rows:
            break
        last_id = rows[-1].id
        report.checked += len(rows)
        if why_not is not None or report.stopped is not None:
            reason = why_not or report.stopped or ""
            found = [Lookup(r.reference, "unknown", reason=reason) for r in rows]
        else:
            with ThreadPoolExecutor(max(1, concurrency)) as pool:
                found = list(pool.map(
                    lambda r: _ask(provider, Query(r.reference, r.email), sleep, rng, report),
                    rows))
        _record(db, rows, found, clock.now(), settle, provider.name, report)
    if report.requeued and campaign.state == CampaignState.DONE.value:
        campaigns.set_state(db, campaign.id, CampaignState.PAUSED, clock.now(),
                            f"{report.requeued} onzekere berichten bleken niet aangekomen en "
                            "staan terug in de wachtrij — start `digiweetjes send` opnieuw")
    log.info("%s: reconciled %d uncertain deliveries: %d sent, %d requeued, %d uncertain",
             campaign.issue_id, report.checked, report.sent, report.requeued, report.uncertain)
    return report


def run_reconciled(work: Callable[[], WorkReport], db: Database, provider: Provider,
                   campaign: CampaignInfo, clock: Clock, options: SendOptions, *,
                   sleep: Callable[[float], None] = time.sleep,
                   rng: random.Random | None = None) -> tuple[WorkReport, tuple[int, int, int]]:
    """A send's run with reconciliation around it, where the provider can be asked: reconcile,
    ``work``, then reconcile and work again while deliveries go back to the queue (at most
    ``RECONCILE_ROUNDS``; not after a pause). Returns the work's report and (found sent, back
    in the queue, still uncertain after the last look)."""
    settle = timedelta(seconds=options.reconcile_settle_seconds)
    totals = (0, 0, 0)

    def look(so_far: tuple[int, int, int]) -> tuple[int, int, int]:
        if cannot_look_up(provider) is not None:
            return so_far
        found = reconcile(db, provider, campaign, clock, settle=settle, sleep=sleep, rng=rng)
        return (so_far[0] + found.sent, so_far[1] + found.requeued, found.uncertain)

    totals = look(totals)
    report = work()
    for _round in range(RECONCILE_ROUNDS):
        before, totals = totals, look(totals)
        if report.paused_reason or totals[1] == before[1]:
            break  # paused, or nothing went back to the queue
        more = work()
        if more is not report:  # several processes: each run has a report of its own
            report.add(more)
    return report, totals


def _uncertain_page(db: Database, campaign_id: int, after_id: int, size: int) -> list[Any]:
    with db.session() as session:
        return list(session.execute(
            select(D.c.id, D.c.reference, D.c.updated_at, S.c.email)
            .join(S, S.c.id == D.c.subscriber_id)
            .where(D.c.campaign_id == campaign_id, D.c.state == UNCERTAIN, D.c.id > after_id)
            .order_by(D.c.id).limit(size)).all())


def _ask(provider: Provider, query: Query, sleep: Callable[[float], None],
         rng: random.Random | None, report: ReconcileReport) -> Lookup:
    """One search, asked again while it fails transiently; a refused account stops the rest."""
    if report.stopped is not None:
        return Lookup(query.reference, "unknown", reason=report.stopped)
    if not query.reference:
        return Lookup("", "unknown", reason="de levering heeft geen referentie om op te zoeken")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return look_up(provider, query)
        except PermanentProviderError as exc:
            report.stopped = f"afstemmen gestopt: {provider.name} weigerde de zoekvraag ({exc})"
            return Lookup(query.reference, "unknown", reason=report.stopped)
        except ProviderError as exc:
            if attempt == ATTEMPTS:
                return Lookup(query.reference, "unknown", reason=(
                    f"zoeken bij {provider.name} mislukte {ATTEMPTS} keer ({exc})"))
            retry_after = getattr(exc, "retry_after", None)
            sleep(SEARCH_BACKOFF.delay(attempt, retry_after, rng))
    raise AssertionError("unreachable")


def _record(db: Database, rows: list[Any], found: list[Lookup], now: datetime,
            settle: timedelta, provider: str, report: ReconcileReport) -> None:
    """One page of answers, in one transaction; each row only if it is still uncertain."""
    sent: list[dict[str, Any]] = []
    requeued: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    too_recent = TOO_RECENT.format(provider=provider, settle=int(settle.total_seconds()))
    for row, lookup in zip(rows, found, strict=True):
        if lookup.outcome == "accepted":
            sent.append({"b_id": row.id, "b_mid": lookup.message_id})
        elif lookup.outcome == "not_found" and row.updated_at + settle <= now:
            requeued.append({"b_id": row.id})
        else:
            reason = too_recent if lookup.outcome == "not_found" else \
                f"nog onzeker: {lookup.reason or 'de provider gaf geen antwoord'}"
            kept.append({"b_id": row.id, "b_reason": reason[:2000]})
    still = and_(D.c.id == bindparam("b_id"), D.c.state == UNCERTAIN)
    with db.session() as session:
        if sent:
            report.sent += session.execute(update(D).where(still).values(
                state="sent", message_id=bindparam("b_mid"), sent_at=now, updated_at=now,
                reason=None, worker_id=None, next_attempt_at=None), sent).rowcount
        if requeued:
            # A fresh key, like an explicit resend: the old batch's key may have been used.
            report.requeued += session.execute(update(D).where(still).values(
                state=QUEUED, idempotency_key=None, key_first_used_at=None, attempts=0,
                next_attempt_at=None, worker_id=None, updated_at=now,
                reason="niet gevonden bij de provider na afstemmen: opnieuw in de wachtrij"),
                requeued).rowcount
        if kept:
            session.execute(update(D).where(still).values(reason=bindparam("b_reason")), kept)
    report.uncertain += len(kept)
    report.reasons.update(k["b_reason"] for k in kept)
