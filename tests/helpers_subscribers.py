"""Test helpers for the subscriber list: a recording provider and link extraction."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from digiweetjes.providers.base import (
    Batch,
    BatchContent,
    Capabilities,
    Recipient,
    RecipientResult,
)
from digiweetjes.subscribers.tokens import Purpose
from tests.sending_support import fake_capabilities


@dataclass
class SentMail:
    kind: str
    to: str
    name: str | None
    subject: str
    text: str
    html: str
    recipient: Recipient


@dataclass
class RecordingProvider:
    """A provider that only records what it was asked to send (personalized, as received)."""

    name: str = "recording"
    max_batch: int = 1000
    idempotency_window: timedelta | None = None
    batches: list[Batch] = field(default_factory=list)
    fail_for: set[str] = field(default_factory=set)

    @property
    def capabilities(self) -> Capabilities:
        return fake_capabilities(self.max_batch, self.idempotency_window)

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        self.batches.append(batch)
        return [RecipientResult(r.reference, "failed" if r.email in self.fail_for else "sent",
                                message_id=f"<{r.reference}@test>")
                for r in batch.recipients]

    def send_transactional(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        """Recorded as a batch of one, so ``sent`` lists service mails and list mail alike."""
        (result,) = self.send_batch(Batch(content, [recipient]))
        return result

    def close(self) -> None:
        pass

    @property
    def sent(self) -> list[SentMail]:
        mails = []
        for batch in self.batches:
            html = batch.content.html
            text = batch.content.text
            for r in batch.recipients:
                mails.append(SentMail(batch.content.tag, r.email, r.name, batch.content.subject,
                                      text.fill(r.text_values), html.fill(r.html_values), r))
        return mails

    def clear(self) -> None:
        self.batches.clear()


def link_token(text: str, path: str) -> str:
    """The token of the first ``/<path>/<token>`` link in a text."""
    match = re.search(rf"/{path}/([A-Za-z0-9_.\-]+)", text)
    assert match, f"no /{path}/ link in:\n{text}"
    return match.group(1)


# Made by the first token format (subscriber id 987654, the address oud.lid@voorbeeld.be,
# the test key, 2026-12-01 09:00 UTC): links like these are in mails already sent.
OLD_ADDRESS = "oud.lid@voorbeeld.be"
OLD_ID = 987654
OLD_TOKENS = {
    Purpose.CONFIRM: "WyJjb25maXJtIiw5ODc2NTQsIjRkYjhmZDE2YWYzNWE5M2MiLDE3OTYxMTU2MDBd"
                     ".OjVVtzTt2m5OmGVvDEopsxCFhQaODQRN5z9_XTCblQE",
    Purpose.UNSUBSCRIBE: "WyJ1bnN1YnNjcmliZSIsOTg3NjU0LCI0ZGI4ZmQxNmFmMzVhOTNjIiwxNzk2MTE1NjAwXQ"
                         ".irjZfQzE9mP-SYsdlfhR8OAPfMk26_eq5EErfLgH-0A",
    Purpose.PREFERENCES: "WyJwcmVmZXJlbmNlcyIsOTg3NjU0LCI0ZGI4ZmQxNmFmMzVhOTNjIiwxNzk2MTE1NjAwXQ"
                         ".lrntRCbOzMC_zmwxBONFVfBYIgczv7P6OBBHsgXXi3s",
}
