"""The scheduler's periodic chores: purge stale sign-ups, resume paused sends, reconcile
uncertain deliveries, take in the provider's suppression lists, rebuild the archive.

Each chore runs on its own: one that fails is logged (in Dutch) and the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import DigiweetjesError
from digiweetjes.models import IssueState
from digiweetjes.providers.base import Provider
from digiweetjes.scheduling.due import DueSends

log = logging.getLogger("digiweetjes.scheduler")


@dataclass
class Chores:
    """What one housekeeping round did: chore → its Dutch line."""

    done: dict[str, str] = field(default_factory=dict)


def housekeeping(db: Database, settings: Settings, clock: Clock, due: DueSends, *,
                 provider_factory: Callable[[], Provider]) -> Chores:
    """Run every chore once (see the module docstring)."""
    chores = Chores()
    steps: list[tuple[str, Callable[[], str]]] = [
        ("opruimen", lambda: purge_pending(db, settings, clock)),
        ("provider-suppressies", lambda: sync_suppressions(db, settings, clock,
                                                           provider_factory)),
        ("afstemmen", lambda: reconcile_uncertain(db, settings, clock, due,
                                                  provider_factory)),
        ("hervatten", lambda: resume_paused(due)),
    ]
    for name, step in steps:
        try:
            chores.done[name] = step()
        except DigiweetjesError as exc:
            chores.done[name] = f"mislukt: {exc}"
            log.error("onderhoud %s mislukt: %s", name, exc)
        else:
            log.info("onderhoud %s: %s", name, chores.done[name])
    return chores


def purge_pending(db: Database, settings: Settings, clock: Clock) -> str:
    """Pending sign-ups older than the retention (30 days) are deleted."""
    from digiweetjes.subscribers.gdpr import purge_expired_pending

    with db.session() as session:
        purged = purge_expired_pending(session, clock, settings)
    return f"{purged} onbevestigde inschrijvingen ouder dan 30 dagen gewist"


def sync_suppressions(db: Database, settings: Settings, clock: Clock,
                      provider_factory: Callable[[], Provider]) -> str:
    """The provider's own suppression lists into ours (as `providers sync-suppressions`)."""
    from digiweetjes.providers.suppressions import list_suppressions, supports_suppression_lists
    from digiweetjes.subscribers.provider_sync import apply_provider_suppressions

    provider = provider_factory()
    try:
        if not supports_suppression_lists(provider):
            return f"{provider.name} houdt geen eigen blokkeerlijst bij"
        listing = list_suppressions(provider)  # type: ignore[arg-type]
    finally:
        provider.close()
    with db.session() as session:
        report = apply_provider_suppressions(session, clock, settings, listing)
    return f"{report.new} nieuwe, {report.opted_out} abonnees van de lijst gehaald"


def reconcile_uncertain(db: Database, settings: Settings, clock: Clock, due: DueSends,
                        provider_factory: Callable[[], Provider]) -> str:
    """Uncertain deliveries looked up at the provider (as `digiweetjes reconcile`); those that
    never arrived are back in the queue and sent again through the door."""
    from datetime import timedelta

    from sqlalchemy import select

    from digiweetjes.models import Campaign, Delivery
    from digiweetjes.sending import campaigns
    from digiweetjes.sending.reconcile import reconcile

    with db.session() as session:
        issue_ids = list(session.scalars(
            select(Campaign.issue_id).where(Campaign.id.in_(
                select(Delivery.campaign_id).where(Delivery.state == "uncertain")))
            .order_by(Campaign.issue_id)))
    if not issue_ids:
        return "geen onzekere berichten"
    settle = timedelta(seconds=settings.send.reconcile_settle_seconds)
    lines = []
    provider = provider_factory()
    try:
        for issue_id in issue_ids:
            campaign = campaigns.get_campaign(db, issue_id)
            if campaign is None or campaign.provider != provider.name:
                lines.append(f"{issue_id}: verstuurd met een andere provider, overgeslagen")
                continue
            report = reconcile(db, provider, campaign, clock, settle=settle)
            lines.append(f"{issue_id}: {report.sent} toch verstuurd, {report.requeued} terug "
                         f"in de wachtrij, {report.uncertain} nog onzeker")
            if report.requeued:
                due.send_again(issue_id)
    finally:
        provider.close()
    return "; ".join(lines)


def resume_paused(due: DueSends) -> str:
    """Interrupted and paused sends go on where they stopped (the ledger sends none twice)."""
    decisions = due.resume({IssueState.SENDING, IssueState.PAUSED})
    return f"{len(decisions)} onderbroken of gepauzeerde verzendingen hervat" if decisions \
        else "geen onderbroken verzendingen"


def rebuild_archive(db: Database, settings: Settings) -> Callable[[str], None]:
    """After a send: the web archive rebuilt, so the issue appears once it went out."""
    from digiweetjes.site.archive import build_site

    def rebuild(issue_id: str) -> None:
        try:
            report = build_site(settings, db=db)
        except DigiweetjesError as exc:
            log.error("archief niet bijgewerkt na %s: %s", issue_id, exc)
            return
        log.info("archief bijgewerkt na %s: %d edities", issue_id, len(report.published))

    return rebuild
