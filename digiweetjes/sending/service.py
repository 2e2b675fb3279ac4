"""Sending an issue, the one door: ``send_issue`` (plan → confirm → freeze or resume → run →
summary), and what it is made of, for callers that need one step (a dry run, a test mail,
the status of a campaign).

The CLI, the demo, the benchmark (and the scheduler and the web app) all send through
``send_issue``; they differ only in how they confirm and how they show progress and results.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.content.drafts import Draft
from digiweetjes.content.source import read_issue, resolve_draft
from digiweetjes.db import Database
from digiweetjes.errors import (
    ConfigError,
    ContentError,
    ProviderError,
    SendingError,
    SubscriberError,
)
from digiweetjes.links import preferences_url, unsubscribe_url
from digiweetjes.providers.base import Batch, Provider, Recipient, RecipientResult
from digiweetjes.providers.messages import HeaderFault, content_faults
from digiweetjes.release import lifecycle
from digiweetjes.release.approval import approval_problem_of
from digiweetjes.release.sent_copy import SentCopy, sent_copy
from digiweetjes.render import CompiledIssue, RecipientData, compile_issue
from digiweetjes.render.gate import check_compiled
from digiweetjes.sending import campaigns
from digiweetjes.sending.campaigns import FAILED, UNCERTAIN, CampaignInfo
from digiweetjes.sending.engine import SendEngine, batch_content
from digiweetjes.sending.options import SendOptions
from digiweetjes.sending.processes import StopFlag
from digiweetjes.sending.progress import Progress
from digiweetjes.sending.recipient_links import LinkSigner, unowned_email_hash
from digiweetjes.sending.redaction import Redactor
from digiweetjes.sending.summary import SendSummary
from digiweetjes.subscribers.emails import email_key, normalize_email

TEST_SUBJECT_PREFIX = "[TEST] "


def load_issue(settings: Settings, issue: str) -> tuple[Draft, CompiledIssue]:
    """The draft named by a path, file name, issue id or number, compiled once."""
    source = read_issue(settings.issues_dir, issue)
    return source.draft, compile_issue(source, settings)


def issue_id_of(settings: Settings, issue: str) -> str:
    """The issue id a path, file name, id or number names (no compiling)."""
    return Path(resolve_draft(settings.issues_dir, issue)).stem


def require_sendable(db: Database, draft: Draft, compiled: CompiledIssue) -> None:
    """SendingError unless the issue is approved in the database for exactly this content
    (``release.approval``) and passes the release gate. Front matter ``status`` is the
    editor's own note and approves nothing."""
    found = check_compiled(compiled)
    if found:
        raise SendingError(f"{draft.display_path} does not pass `digiweetjes check`:\n"
                           + "\n".join(found))
    problem = approval_problem_of(db, compiled)
    if problem:
        raise SendingError(f"{draft.display_path} wordt niet verstuurd: {problem}")


#: Where each header value of a batch comes from: the setting a person changes to fix it.
HEADER_SETTINGS = {
    "from_name": ("DIGIWEETJES_SENDER_NAME", "de afzendernaam"),
    "from_email": ("DIGIWEETJES_SENDER_EMAIL", "het afzenderadres"),
    "reply_to": ("DIGIWEETJES_REPLY_TO", "het antwoordadres"),
    "unsubscribe_mailto": ("DIGIWEETJES_UNSUBSCRIBE_MAILTO", "het uitschrijfadres"),
}


def fault_in_dutch(fault: HeaderFault) -> str:
    """What is wrong with a header value, for the person who has to fix it."""
    where = f" op positie {fault.index + 1}" if fault.index >= 0 else ""
    return {
        "empty": "is leeg",
        "line-break": f"bevat een regeleinde ({fault.codepoint}){where}",
        "nul": f"bevat een nulteken (U+0000){where}",
        "control": f"bevat een stuurteken ({fault.codepoint}){where}",
        "surrogate": f"bevat een ongeldig teken ({fault.codepoint}){where}",
        "bidi": f"bevat een onzichtbaar richtingsteken ({fault.codepoint}){where}",
        "encoded-word": f"bevat een gecodeerd woord ('=?'){where}",
        "address": "is geen enkel, gewoon e-mailadres",
    }[fault.kind]


def require_safe_headers(compiled: CompiledIssue, settings: Settings, *,
                         draft: Draft | None = None) -> None:
    """ConfigError or ContentError unless every header value of the issue's mail can go into a
    header, by the rules the providers apply (``providers.messages.content_faults``): checked
    before anything is written, so a bad sender name or title never fails a whole audience."""
    for field, fault in content_faults(batch_content(compiled, settings)):
        if field in HEADER_SETTINGS:
            variable, what = HEADER_SETTINGS[field]
            raise ConfigError(f"{variable} {fault_in_dutch(fault)}: {what} komt in de kop van "
                              "elke mail. Pas de instelling aan; er werd niets verstuurd.")
        if field == "subject":
            raise ContentError(
                f"{fault_in_dutch(fault)}: de titel wordt het onderwerp van elke mail. Pas de "
                "titel aan; er werd niets verstuurd.",
                path=draft.display_path if draft else compiled.issue_id,
                line=_front_matter_line(draft, "title") if draft else None, field="title")
        raise SendingError(f"{field} {fault_in_dutch(fault)}: zo kan de mail niet weg; er werd "
                           "niets verstuurd.")


def _front_matter_line(draft: Draft, name: str) -> int | None:
    """The line of the draft's front matter where ``name:`` is set, if it can be found."""
    try:
        lines = draft.path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError):
        return None
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() in ("---", "..."):
            break
        if line.startswith(f"{name}:"):
            return number
    return None


# -- the one door ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What a send would do now (a dry run, and what the confirmation asks about)."""

    issue_id: str
    subject: str
    provider: str
    campaign: CampaignInfo | None
    audience: int
    to_send: int
    batch_size: int
    counts: dict[str, int] | None

    @property
    def batches(self) -> int:
        return math.ceil(self.to_send / self.batch_size) if self.to_send else 0

    @property
    def finished(self) -> bool:
        """The campaign exists and nothing is left to send (nor asked to be sent again)."""
        return self.campaign is not None and self.to_send == 0


@dataclass(frozen=True)
class SendOutcome:
    """What ``send_issue`` did: nothing (already finished, or not confirmed), or a run."""

    plan: Plan
    #: The run's summary; None when nothing was sent (``plan.finished`` or ``declined``).
    summary: SendSummary | None = None
    #: True when this call froze the audience (the issue's first run).
    created: bool = False
    #: True when the confirmation said no: nothing was written.
    declined: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """The campaign's deliveries by state after the call ({} if there is no campaign)."""
        if self.summary is not None and self.summary.counts is not None:
            return self.summary.counts
        return dict(self.plan.counts or {}) if not self.declined else {}

    @property
    def clean(self) -> bool:
        """True unless the campaign has failed or uncertain deliveries, or is paused."""
        if self.summary is not None and self.summary.paused_reason:
            return False
        return not (self.counts.get(FAILED) or self.counts.get(UNCERTAIN))


def send_issue(draft: Draft, compiled: CompiledIssue, *, db: Database, settings: Settings,
               clock: Clock, provider_factory: Callable[[], Provider],
               confirm: Callable[[Plan], bool], progress: Progress | None = None,
               options: SendOptions | None = None, retry_failed: bool = False,
               include_uncertain: bool = False, stop: StopFlag | None = None) -> SendOutcome:
    """Send an approved issue to its audience, or resume its interrupted or paused send.

    ``confirm`` sees the plan and may say no; ``provider_factory`` makes a provider for this
    process and one for each further sending process (``options.processes``). Setting
    ``stop`` (the scheduler's SIGTERM) ends the run between batches; the same call resumes it.
    """
    options = options or SendOptions()
    provider = provider_factory()
    try:
        current = plan(db, compiled, provider, batch_size=options.batch_size,
                       retry_failed=retry_failed, include_uncertain=include_uncertain)
        # What is wrong with the mail itself first: it is what the person must fix.
        require_safe_headers(compiled, settings, draft=draft)
        require_sendable(db, draft, compiled)
        if current.finished:
            lifecycle.settle(db, clock, compiled.issue_id, done=True)
            return SendOutcome(current)
        if current.campaign is None and current.audience == 0:
            raise SendingError(
                f"{compiled.issue_id} wordt niet verstuurd: het publiek telt 0 actieve "
                "abonnees; er is niets vastgelegd")
        if not confirm(current):
            return SendOutcome(current, declined=True)

        def engine_of_another_process(*, stop: StopFlag, share: int) -> SendEngine:
            return SendEngine(Database(db.url), provider_factory(), compiled, settings, clock,
                              options, stop=stop, share=share)

        # Built before anything is written: what it needs (the secret key that signs links,
        # the provider's limits) fails here with the database untouched.
        engine = SendEngine(db, provider, compiled, settings, clock, options, progress=progress,
                            engine_factory=engine_of_another_process, stop=stop)
        # What goes out is stored with the campaign when its audience is frozen (first run).
        copy = sent_copy(settings, draft, compiled) if current.campaign is None else None
        lifecycle.start(db, clock, compiled.issue_id)
        campaign, created = start_or_resume(db, compiled, provider, clock,
                                            retry_failed=retry_failed,
                                            include_uncertain=include_uncertain, copy=copy)
        summary = engine.run(campaign)
        lifecycle.settle(db, clock, compiled.issue_id, done=summary.done,
                         paused_reason=summary.paused_reason)
        return SendOutcome(current, summary, created=created)
    finally:
        provider.close()


def plan(db: Database, compiled: CompiledIssue, provider: Provider, *,
         batch_size: int | None = None, retry_failed: bool = False,
         include_uncertain: bool = False) -> Plan:
    """Read-only: the audience or the campaign's state, and what a send would do."""
    size = min(batch_size or provider.capabilities.max_batch, provider.capabilities.max_batch)
    campaign = campaigns.get_campaign(db, compiled.issue_id)
    if campaign is None:
        audience = campaigns.count_audience(db, compiled.audience)
        return Plan(compiled.issue_id, compiled.subject, provider.name, None, audience,
                    audience, size, None)
    counts = campaigns.counts(db, campaign.id)
    to_send = counts["queued"] + counts["sending"]
    to_send += counts["failed"] if retry_failed else 0
    to_send += counts["uncertain"] if include_uncertain else 0
    return Plan(compiled.issue_id, compiled.subject, provider.name, campaign,
                campaign.audience_size, to_send, size, counts)


def start_or_resume(db: Database, compiled: CompiledIssue, provider: Provider, clock: Clock, *,
                    retry_failed: bool = False, include_uncertain: bool = False,
                    copy: SentCopy | None = None) -> tuple[CampaignInfo, bool]:
    """The campaign to run: frozen now if new (with ``copy``, what it sends, stored with it),
    reopened for explicit retries; (it, created)."""
    now = clock.now()
    campaign, created = campaigns.freeze_audience(
        db, issue_id=compiled.issue_id, subject=compiled.subject, tag=compiled.tag,
        provider=provider.name, audience=compiled.audience, now=now, copy=copy)
    states = [s for s, wanted in ((FAILED, retry_failed), (UNCERTAIN, include_uncertain))
              if wanted]
    if not created and states and campaigns.reopen(db, campaign.id, states, now):
        campaign = campaigns.get_campaign(db, compiled.issue_id) or campaign
    return campaign, created


# -- single steps ------------------------------------------------------------------------------


#: Addresses one test send may go to (``send --to``, repeatable): a check, not a mailing.
MAX_TEST_ADDRESSES = 5


def test_addresses(addresses: Sequence[str]) -> list[str]:
    """The normalised test addresses, or SendingError (Dutch, naming the address) before
    anything is sent: an invalid one, one given twice, too many, none."""
    if not addresses:
        raise SendingError("--to: geef minstens één adres; er werd niets verstuurd")
    if len(addresses) > MAX_TEST_ADDRESSES:
        raise SendingError(f"--to: hoogstens {MAX_TEST_ADDRESSES} testadressen, er zijn er "
                           f"{len(addresses)}; er werd niets verstuurd")
    found: list[str] = []
    for address in addresses:
        shown = address if len(address) <= 80 else address[:77] + "..."
        try:
            email = normalize_email(address)
        except SubscriberError:
            raise SendingError(f"--to: {shown!r} is geen geldig e-mailadres; er werd niets "
                               "verstuurd") from None
        if email.lower() in (f.lower() for f in found):
            raise SendingError(f"--to: {shown!r} staat er twee keer in; er werd niets verstuurd")
        found.append(email)
    return found


def test_send(provider: Provider, compiled: CompiledIssue, settings: Settings,
              address: str, *, draft: Draft | None = None,
              clock: Clock | None = None) -> RecipientResult:
    """Send the issue to one address as a pseudo-recipient; the ledger is never touched."""
    return test_send_many(provider, compiled, settings, [address], draft=draft, clock=clock)[0]


def test_send_many(provider: Provider, compiled: CompiledIssue, settings: Settings,
                   addresses: Sequence[str], *, draft: Draft | None = None,
                   clock: Clock | None = None) -> list[RecipientResult]:
    """Send the issue to a few addresses, each its own message with its own links, in one
    batch (the path a real send takes, so per-recipient headers and values are exercised);
    the ledger is never touched. Every address is checked before anything is sent.

    The links are signed per address (with ``clock``; without it, the pages themselves), so
    they differ between the addresses as a subscriber's would, but for a hash no subscriber has
    (``unowned_email_hash``): they unsubscribe or change nobody, not even a tester on the list.
    """
    require_safe_headers(compiled, settings, draft=draft)
    emails = test_addresses(addresses)
    content = replace(batch_content(compiled, settings),
                      subject=TEST_SUBJECT_PREFIX + compiled.subject)
    signer = LinkSigner(settings, clock.now()) if clock is not None else None
    recipients = []
    for email in emails:
        unsubscribe, preferences = (
            signer.links(unowned_email_hash(settings, email_key(email))) if signer
            else (unsubscribe_url(settings), preferences_url(settings)))
        html_values, text_values = compiled.values_for(
            RecipientData(email, None, None, unsubscribe, preferences))
        recipients.append(Recipient(f"test-{uuid.uuid4().hex[:12]}", email, None, html_values,
                                    text_values, unsubscribe))
    redact = Redactor(settings)
    try:
        results = provider.send_batch(Batch(content, recipients))
    except ProviderError as exc:
        raise type(exc)(redact(str(exc))) from None
    refused = [f"{r.email}: {redact(result.reason or 'geen reden opgegeven')}"
               for r, result in zip(recipients, results, strict=True) if result.status != "sent"]
    if refused:
        raise SendingError("de testmail werd geweigerd voor " + "; ".join(refused))
    return results


@dataclass(frozen=True)
class CampaignStatus:
    """Where a campaign stands: counts by state, and its failed and uncertain deliveries."""

    campaign: CampaignInfo
    counts: dict[str, int]
    #: state → [(reason, how many)], most frequent first (failed and uncertain only).
    reasons: dict[str, list[tuple[str | None, int]]]
    #: state → [(address, delivery id, reason)], oldest first, at most ``limit`` each.
    deliveries: dict[str, list[tuple[str | None, str, str | None]]]
    limit: int


def campaign_status(db: Database, issue_id: str, *, limit: int = 20,
                    states: Sequence[str] = (FAILED, UNCERTAIN)) -> CampaignStatus | None:
    """The status of an issue's campaign, or None if it was never sent to the list."""
    campaign = campaigns.get_campaign(db, issue_id)
    if campaign is None:
        return None
    counts = campaigns.counts(db, campaign.id)
    wanted = [state for state in states if counts[state]]
    return CampaignStatus(
        campaign, counts,
        reasons={state: campaigns.reasons(db, campaign.id, state) for state in wanted},
        deliveries={state: [(email, delivery_id, reason) for _s, email, delivery_id, reason
                            in campaigns.problems(db, campaign.id, (state,), limit)]
                    for state in wanted},
        limit=limit)
