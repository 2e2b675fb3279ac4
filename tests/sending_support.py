"""Shared pieces of the sending tests: the sample issue, subscribers, a scripted provider."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import insert, select, update

from digiweetjes.config import PROJECT_ROOT, Settings
from digiweetjes.content.source import read_issue
from digiweetjes.db import Database
from digiweetjes.models import Delivery, Subscriber, Suppression
from digiweetjes.providers.base import Batch, Capabilities, IdempotencySupport, RecipientResult
from digiweetjes.render import CompiledIssue, compile_issue
from digiweetjes.render.placeholders import FillableTemplate
from digiweetjes.sending import campaigns
from digiweetjes.sending.campaigns import CampaignInfo
from digiweetjes.subscribers.hashing import Hasher

SAMPLE = PROJECT_ROOT / "issues" / "2026-12-05-overzicht-projectoproepen.md"
#: Literal syntax of every provider's template language, put into the issue's body.
TRICKY = ("{{ params.x }} {{x}} {% if 1 %}{# c #} {{var:x}} {{var:x:\"d\"}} %recipient.email% "
          "%recipient% %unsubscribe_url% -greeting- 100% {{{ { } }}} {")


@cache
def _compiled(settings_key: tuple[str, str]) -> CompiledIssue:
    settings = Settings(base_url=settings_key[0], issues_dir=PROJECT_ROOT / "issues",
                        templates_dir=PROJECT_ROOT / "templates")
    return compile_issue(read_issue(settings.issues_dir, SAMPLE), settings)


def sample_issue(settings: Settings, *, tricky: bool = False,
                 issue_id: str | None = None) -> CompiledIssue:
    """The sample issue compiled once per base URL; optionally with provider syntax inside."""
    compiled = _compiled((settings.base_url, str(settings.templates_dir)))
    if tricky:
        html = compiled.html.source.replace("</body>", f"<p>{TRICKY}</p></body>", 1)
        text = compiled.text.source + "\n" + TRICKY + "\n"
        compiled = replace(compiled, html=FillableTemplate.parse(html),
                           text=FillableTemplate.parse(text))
    if issue_id:
        compiled = replace(compiled, issue_id=issue_id)
    return compiled


def add_subscriber(db: Database, settings: Settings, email: str, *, now, status: str = "active",
                   municipality: str | None = None, subregion: str | None = None,
                   topics: tuple[str, ...] = (), name: str | None = None) -> int:
    """One subscriber row as the list would hold it (bypassing the subscribe flow)."""
    with db.session() as session:
        return session.execute(insert(Subscriber).values(
            email=email, email_key=email.lower(), email_hash=Hasher(settings).email(email.lower()),
            name=name, municipality=municipality, subregion=subregion, topics=list(topics),
            language="nl-BE", status=status, source="admin", created_at=now, updated_at=now,
        ).returning(Subscriber.id)).scalar_one()


def suppress(db: Database, settings: Settings, email: str, now) -> None:
    with db.session() as session:
        session.execute(insert(Suppression).values(
            email_hash=Hasher(settings).email(email.lower()), reason="unsubscribed",
            source="admin", created_at=now, updated_at=now))


def set_status(db: Database, email: str, status: str) -> None:
    with db.session() as session:
        session.execute(update(Subscriber).where(Subscriber.email == email)
                        .values(status=status))


def freeze(db: Database, compiled: CompiledIssue, provider: str, now) -> CampaignInfo:
    campaign, _ = campaigns.freeze_audience(
        db, issue_id=compiled.issue_id, subject=compiled.subject, tag=compiled.tag,
        provider=provider, audience=compiled.audience, now=now)
    return campaign


def states(db: Database, campaign_id: int) -> dict[int, str]:
    """delivery id → state."""
    with db.session() as session:
        return dict(session.execute(select(Delivery.id, Delivery.state)
                                    .where(Delivery.campaign_id == campaign_id)).all())


def rows(db: Database, campaign_id: int) -> list[Delivery]:
    with db.session() as session:
        return list(session.scalars(select(Delivery).where(Delivery.campaign_id == campaign_id)
                                    .order_by(Delivery.id)))


def fake_capabilities(max_batch: int, idempotency_window: timedelta | None) -> Capabilities:
    """What a test provider declares: client-side personalization, an optional key window."""
    return Capabilities(
        server_side_personalization=False, max_batch=max_batch,
        idempotency=None if idempotency_window is None
        else IdempotencySupport("header", "Idempotency-Key", idempotency_window))


@dataclass
class ScriptedProvider:
    """A provider whose answers follow a script: each entry an exception to raise or None (ok).

    It remembers which references it "delivered" (also when it raises after delivering,
    as an uncertain outcome can), so tests count deliveries per recipient.
    """

    name: str = "scripted"
    max_batch: int = 10
    idempotency_window: timedelta | None = None
    script: list[BaseException | Callable[[Batch], BaseException | None] | None] = \
        field(default_factory=list)
    deliver_before_raising: bool = False
    delivered: dict[str, int] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    batches: list[Batch] = field(default_factory=list)
    fail_emails: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def capabilities(self) -> Capabilities:
        return fake_capabilities(self.max_batch, self.idempotency_window)

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        with self.lock:
            self.batches.append(batch)
            step = self.script.pop(0) if self.script else None
            if callable(step) and not isinstance(step, BaseException):
                step = step(batch)
            replay = batch.idempotency_key in self.keys and self.idempotency_window is not None
            if step is None or self.deliver_before_raising:
                if not replay:
                    for r in batch.recipients:
                        if r.email not in self.fail_emails:
                            self.delivered[r.email] = self.delivered.get(r.email, 0) + 1
                if batch.idempotency_key:
                    self.keys[batch.idempotency_key] = [r.reference for r in batch.recipients]
            if step is not None:
                raise step
        return [RecipientResult(r.reference, "failed", reason=f"{r.email}: inactive recipient")
                if r.email in self.fail_emails
                else RecipientResult(r.reference, "sent", message_id=f"<{r.reference}@scripted>")
                for r in batch.recipients]

    def close(self) -> None:
        pass


def tmp_settings(settings: Settings, db: Database, tmp_path: Path) -> Settings:
    return settings.with_(database_url=db.url, outbox_dir=tmp_path / "outbox")
