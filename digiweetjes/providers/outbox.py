"""The outbox provider: one RFC 5322 ``.eml`` file per recipient, for the demo, tests and review.

Files land in ``<outbox_dir>/<issue_id>/<reference>.eml``, written atomically (temp file + rename)
so a reader never sees half a message and a resend of the same reference replaces the file.
"""

from __future__ import annotations

import os
import re
import tempfile
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, quote
from pathlib import Path

from digiweetjes.clock import Clock
from digiweetjes.errors import PermanentProviderError, TransientProviderError
from digiweetjes.providers.base import (
    Batch,
    BatchContent,
    Capabilities,
    Recipient,
    RecipientResult,
)
from digiweetjes.render.placeholders import FillableTemplate

# CRLF line ends (RFC 5322); long headers such as List-Unsubscribe stay on one line up to the
# RFC's 998 characters instead of being folded right after the colon.
_POLICY = policy.SMTP.clone(max_line_length=998)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_LINE_BREAK = re.compile(r"[\r\n]")


def _safe_part(text: str, what: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", text).strip("._")
    if not cleaned:
        raise PermanentProviderError(f"outbox: {what} {text!r} gives no usable file name")
    return cleaned[:150]


def _refuse_line_breaks(value: str, what: str) -> None:
    if _LINE_BREAK.search(value):
        raise PermanentProviderError(f"outbox: {what} contains a line break (header injection)")


class OutboxProvider:
    """Writes each message as an ``.eml`` file instead of sending it."""

    name = "outbox"
    # One file a message, each with its full body: batches are sized by the engine's byte
    # budget (no ceiling of our own), and rewriting a file is its own idempotency.
    capabilities = Capabilities(server_side_personalization=False, max_batch=1000)

    def __init__(self, outbox_dir: Path, *, clock: Clock) -> None:
        self.outbox_dir = Path(outbox_dir)
        self._clock = clock

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        """Write one file per recipient; each result is ``sent`` unless the recipient is invalid."""
        content = batch.content
        max_batch = self.capabilities.max_batch
        if len(batch.recipients) > max_batch:
            raise PermanentProviderError(
                f"outbox: {len(batch.recipients)} recipients in one batch, at most {max_batch}")
        _refuse_line_breaks(content.subject, "subject")
        _refuse_line_breaks(content.tag, "tag")
        for header, value in content.headers.items():
            _refuse_line_breaks(f"{header}{value}", f"header {header}")
        html, text = content.html, content.text
        folder = self.outbox_dir / _safe_part(content.issue_id, "issue id")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransientProviderError(f"outbox: cannot create {folder}: {exc.strerror}") from exc
        results = []
        for recipient in batch.recipients:
            try:
                message = self._message(content, recipient, html, text)
            except (ValueError, KeyError, PermanentProviderError) as exc:
                results.append(RecipientResult(recipient.reference, "failed", reason=str(exc)))
                continue
            path = folder / f"{_safe_part(recipient.reference, 'reference')}.eml"
            self._write(path, message)
            results.append(RecipientResult(recipient.reference, "sent",
                                           message_id=message["Message-ID"]))
        return results

    def _message(self, content: BatchContent, recipient: Recipient, html: FillableTemplate,
                 text: FillableTemplate) -> EmailMessage:
        _refuse_line_breaks(recipient.email, "recipient address")
        if recipient.name:
            _refuse_line_breaks(recipient.name, "recipient name")
        sender_domain = content.from_email.rpartition("@")[2] or "localhost"
        # An internationalised address (EAI, RFC 6532) needs UTF-8 headers.
        international = not (recipient.email.isascii() and content.from_email.isascii())
        message = EmailMessage(policy=_POLICY.clone(utf8=True) if international else _POLICY)
        message["From"] = Address(content.from_name, addr_spec=content.from_email)
        if international:
            # Address() refuses a non-ASCII local part even under a UTF-8 policy.
            message["To"] = (f'"{quote(recipient.name)}" <{recipient.email}>'
                             if recipient.name else recipient.email)
        else:
            message["To"] = Address(recipient.name or "", addr_spec=recipient.email)
        if content.reply_to:
            message["Reply-To"] = content.reply_to
        message["Subject"] = content.subject
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = make_msgid(domain=sender_domain)
        if recipient.unsubscribe_url:
            # RFC 8058 one-click: https first, mailto as the fallback for older clients.
            _refuse_line_breaks(recipient.unsubscribe_url, "unsubscribe URL")
            message["List-Unsubscribe"] = (
                f"<{recipient.unsubscribe_url}>, "
                f"<mailto:{content.unsubscribe_mailto}?subject=unsubscribe>"
            )
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["X-Digiweetjes-Tag"] = content.tag
        message["X-Digiweetjes-Reference"] = recipient.reference
        for header, value in content.headers.items():
            message[header] = value
        message.set_content(text.fill(recipient.text_values), subtype="plain", charset="utf-8")
        message.add_alternative(html.fill(recipient.html_values), subtype="html", charset="utf-8")
        return message

    def _write(self, path: Path, message: EmailMessage) -> None:
        data = message.as_bytes()
        try:
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TransientProviderError(f"outbox: cannot write {path}: {exc.strerror}") from exc

    def close(self) -> None:
        """Nothing to release."""
