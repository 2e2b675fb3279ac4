"""What the ``send`` and ``status`` commands do, apart from asking and printing."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from digiweetjes.check import check_compiled
from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.content.drafts import Draft, resolve_draft
from digiweetjes.db import Database
from digiweetjes.emails import normalize_email
from digiweetjes.errors import ProviderError, SendingError
from digiweetjes.providers.base import Batch, Provider, Recipient, RecipientResult
from digiweetjes.render import CompiledIssue, RecipientData, compile_draft_file
from digiweetjes.sending import ledger
from digiweetjes.sending.engine import Redactor, batch_content
from digiweetjes.sending.ledger import CampaignInfo

TEST_SUBJECT_PREFIX = "[TEST] "


def load_issue(settings: Settings, issue: str) -> tuple[Draft, CompiledIssue]:
    """The draft named by a path, file name, issue id or number, compiled once."""
    return compile_draft_file(resolve_draft(settings.issues_dir, issue), settings)


def issue_id_of(settings: Settings, issue: str) -> str:
    """The issue id a path, file name, id or number names (no compiling)."""
    return Path(resolve_draft(settings.issues_dir, issue)).stem


def require_sendable(draft: Draft, compiled: CompiledIssue) -> None:
    """SendingError unless the issue is approved and passes the release gate."""
    if draft.meta.status != "approved":
        raise SendingError(f"{draft.display_path} is not approved (status: {draft.meta.status}); "
                           "set `status: approved` in its front matter after review")
    found = check_compiled(compiled)
    if found:
        raise SendingError(f"{draft.display_path} does not pass `digiweetjes check`:\n"
                           + "\n".join(found))


def test_send(provider: Provider, compiled: CompiledIssue, settings: Settings,
              address: str) -> RecipientResult:
    """Send the issue to one address as a pseudo-recipient; the ledger is never touched."""
    email = normalize_email(address)
    links = RecipientData(email, None, None, f"{settings.base_url}/uitschrijven",
                          f"{settings.base_url}/voorkeuren")
    html_values, text_values = compiled.values_for(links)
    content = replace(batch_content(compiled, settings),
                      subject=TEST_SUBJECT_PREFIX + compiled.subject)
    recipient = Recipient(f"test-{uuid.uuid4().hex[:12]}", email, None, html_values,
                          text_values, links.unsubscribe_url)
    redact = Redactor(settings)
    try:
        result = provider.send_batch(Batch(content, [recipient]))[0]
    except ProviderError as exc:
        raise type(exc)(redact(str(exc))) from None
    if result.status != "sent":
        raise SendingError(f"the test mail to {email} was refused: "
                           f"{redact(result.reason or 'no reason given')}")
    return result


@dataclass(frozen=True)
class Plan:
    """What ``send`` would do now (``--dry-run``, and the confirmation prompt)."""

    issue_id: str
    provider: str
    campaign: CampaignInfo | None
    audience: int
    to_send: int
    batch_size: int
    counts: dict[str, int] | None

    @property
    def batches(self) -> int:
        return math.ceil(self.to_send / self.batch_size) if self.to_send else 0

    def lines(self) -> list[str]:
        if self.campaign is None:
            head = (f"Issue {self.issue_id} has not been sent: its audience is {self.audience} "
                    f"subscribers right now.")
        else:
            c = self.counts or {}
            head = (f"Issue {self.issue_id} is {self.campaign.state} via "
                    f"{self.campaign.provider}: audience {self.campaign.audience_size} frozen "
                    f"{self.campaign.audience_frozen_at:%Y-%m-%d %H:%M} UTC; {c.get('sent', 0)} "
                    f"sent, {c.get('failed', 0)} failed, {c.get('uncertain', 0)} uncertain, "
                    f"{c.get('suppressed', 0)} suppressed.")
        return [head, f"To send now: {self.to_send} recipients in {self.batches} batches of at "
                      f"most {self.batch_size} via {self.provider}."]


def plan(db: Database, compiled: CompiledIssue, provider: Provider, *,
         batch_size: int | None = None, retry_failed: bool = False,
         include_uncertain: bool = False) -> Plan:
    """Read-only: the audience or the campaign's state, and what a send would do."""
    size = min(batch_size or provider.capabilities.max_batch, provider.capabilities.max_batch)
    campaign = ledger.get_campaign(db, compiled.issue_id)
    if campaign is None:
        audience = ledger.count_audience(db, compiled.audience)
        return Plan(compiled.issue_id, provider.name, None, audience, audience, size, None)
    counts = ledger.counts(db, campaign.id)
    to_send = counts["queued"] + counts["sending"]
    to_send += counts["failed"] if retry_failed else 0
    to_send += counts["uncertain"] if include_uncertain else 0
    return Plan(compiled.issue_id, provider.name, campaign, campaign.audience_size, to_send,
                size, counts)


def start_or_resume(db: Database, compiled: CompiledIssue, provider: Provider, clock: Clock, *,
                    retry_failed: bool = False,
                    include_uncertain: bool = False) -> tuple[CampaignInfo, bool]:
    """The campaign to run: frozen now if new, reopened for explicit retries; (it, created)."""
    now = clock.now()
    campaign, created = ledger.freeze_audience(
        db, issue_id=compiled.issue_id, subject=compiled.subject, tag=compiled.tag,
        provider=provider.name, audience=compiled.audience, now=now)
    states = [s for s, wanted in (("failed", retry_failed), ("uncertain", include_uncertain))
              if wanted]
    if not created and states and ledger.reopen(db, campaign.id, states, now):
        campaign = ledger.get_campaign(db, compiled.issue_id) or campaign
    return campaign, created


def status_lines(db: Database, issue_id: str, *, limit: int = 20) -> list[str]:
    """Counts by state, the pause reason, and failed / uncertain deliveries with reasons."""
    campaign = ledger.get_campaign(db, issue_id)
    if campaign is None:
        return [f"Issue {issue_id} has not been sent to the list."]
    counts = ledger.counts(db, campaign.id)
    lines = [f"Issue {issue_id}: {campaign.state} via {campaign.provider}, audience "
             f"{campaign.audience_size} frozen {campaign.audience_frozen_at:%Y-%m-%d %H:%M} UTC"]
    lines += [f"  {state:<10} {count:>9}" for state, count in counts.items()]
    if campaign.pause_reason:
        lines.append(f"Paused: {campaign.pause_reason}")
    for state in ("failed", "uncertain"):
        if not counts[state]:
            continue
        lines.append(f"{state.capitalize()} ({counts[state]}), by reason:")
        lines += [f"  {n:>7} × {reason or '(no reason recorded)'}"
                  for reason, n in ledger.reasons(db, campaign.id, state)]
        lines.append(f"{state.capitalize()} deliveries (first {limit}):")
        lines += [f"  #{delivery_id} {email or '(erased)'}: {reason or ''}"
                  for _s, email, delivery_id, reason
                  in ledger.problems(db, campaign.id, (state,), limit)]
    if counts["uncertain"]:
        lines.append("Uncertain deliveries may have arrived; `digiweetjes send ISSUE "
                     "--include-uncertain` sends them again (some may then get it twice).")
    return lines
