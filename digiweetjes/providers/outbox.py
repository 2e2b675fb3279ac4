"""The outbox provider: one RFC 5322 ``.eml`` file per recipient, for the demo, tests and review.

Files land in ``<outbox_dir>/<issue_id>/<reference>.eml``, written atomically (temp file + rename)
so a reader never sees half a message and a resend of the same reference replaces the file.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from digiweetjes.clock import Clock
from digiweetjes.errors import PermanentProviderError, ProviderBlockedError
from digiweetjes.providers.base import (
    Batch,
    BatchContent,
    Capabilities,
    Recipient,
    RecipientResult,
)
from digiweetjes.providers.messages import (
    check_content,
    display_name,
    header_address,
    recipient_problem,
)
from digiweetjes.providers.outbox_mime import fast_message
from digiweetjes.render.placeholders import FillableTemplate

# CRLF line ends (RFC 5322); long headers such as List-Unsubscribe stay on one line up to the
# RFC's 998 characters instead of being folded right after the colon.
_POLICY = policy.SMTP.clone(max_line_length=998)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_part(text: str, what: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", text).strip("._")
    if not cleaned:
        raise PermanentProviderError(f"outbox: {what} {text!r} gives no usable file name")
    return cleaned[:150]


class OutboxProvider:
    """Writes each message as an ``.eml`` file instead of sending it."""

    name = "outbox"
    # One file a message, each with its full body: batches are sized by the engine's byte
    # budget (no ceiling of our own), and rewriting a file is its own idempotency.
    # Files on our own disk: no request rate applies (default_requests_per_second None).
    capabilities = Capabilities(server_side_personalization=False, max_batch=1000)

    def __init__(self, outbox_dir: Path, *, clock: Clock) -> None:
        self.outbox_dir = Path(outbox_dir)
        self._clock = clock

    def send_batch(self, batch: Batch) -> list[RecipientResult]:
        """Write one file per recipient; each result is ``sent`` unless the recipient is invalid."""
        max_batch = self.capabilities.max_batch
        if len(batch.recipients) > max_batch:
            raise PermanentProviderError(
                f"outbox: {len(batch.recipients)} recipients in one batch, at most {max_batch}")
        return self._write_messages(batch.content, batch.recipients, list_mail=True)

    def send_transactional(self, content: BatchContent, recipient: Recipient) -> RecipientResult:
        """Write one service mail (a confirmation): no List-Unsubscribe, it is not list mail."""
        (result,) = self._write_messages(content, [recipient], list_mail=False)
        return result

    def _write_messages(self, content: BatchContent, recipients: Sequence[Recipient], *,
                        list_mail: bool) -> list[RecipientResult]:
        check_content(content, who="outbox: ")
        html, text = content.html, content.text
        folder = self.outbox_dir / _safe_part(content.issue_id, "issue id")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            # A folder that cannot be made (a file in the way, no permission, a full or
            # read-only disk) fails every message alike until someone fixes it.
            raise ProviderBlockedError(f"outbox: kan {folder} niet aanmaken: {exc.strerror}") \
                from exc
        results = []
        for recipient in recipients:
            problem = recipient_problem(recipient, require_unsubscribe_url=False)
            if problem:
                results.append(RecipientResult(recipient.reference, "failed",
                                               reason=f"outbox: {problem}"))
                continue
            try:
                data, message_id = self._bytes(content, recipient, html, text,
                                               list_mail=list_mail)
            except (ValueError, KeyError) as exc:
                # What the standard library will not write (an address it cannot encode).
                results.append(RecipientResult(recipient.reference, "failed",
                                               reason=f"outbox: {exc}"))
                continue
            path = folder / f"{_safe_part(recipient.reference, 'reference')}.eml"
            self._write(path, data)
            results.append(RecipientResult(recipient.reference, "sent", message_id=message_id))
        return results

    def _bytes(self, content: BatchContent, recipient: Recipient, html: FillableTemplate,
               text: FillableTemplate, *, list_mail: bool) -> tuple[bytes, str]:
        """The message's bytes and its Message-ID: written directly when ``fast_message``
        can (most mails), else built by the standard library (``_message``)."""
        message_id = make_msgid(domain=content.from_email.rpartition("@")[2] or "localhost")
        text_body, html_body = text.fill(recipient.text_values), html.fill(recipient.html_values)
        data = fast_message(
            self._headers(content, recipient, message_id, list_mail=list_mail),
            content.headers, text_body, html_body)
        if data is not None:
            return data, message_id
        message = self._message(content, recipient, message_id, text_body, html_body,
                                list_mail=list_mail)
        return message.as_bytes(), message_id

    def _headers(self, content: BatchContent, recipient: Recipient, message_id: str, *,
                 list_mail: bool) -> list[tuple[str, str | tuple[str, str | None]]]:
        """The message's own headers in order; an address as (email, display name)."""
        headers: list[tuple[str, str | tuple[str, str | None]]] = [
            ("From", (content.from_email, display_name(content.from_name))),
            ("To", (recipient.email, display_name(recipient.name)))]
        if content.reply_to:
            headers.append(("Reply-To", (content.reply_to, None)))
        headers += [("Subject", content.subject), ("Date", format_datetime(self._clock.now())),
                    ("Message-ID", message_id)]
        if list_mail and recipient.unsubscribe_url:
            # RFC 8058 one-click: https first, mailto as the fallback for older clients.
            headers += [("List-Unsubscribe", f"<{recipient.unsubscribe_url}>, "
                                             f"<mailto:{content.unsubscribe_mailto}"
                                             "?subject=uitschrijven>"),
                        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
        headers += [("X-Digiweetjes-Tag", content.tag),
                    ("X-Digiweetjes-Reference", recipient.reference)]
        return headers

    def _message(self, content: BatchContent, recipient: Recipient, message_id: str,
                 text_body: str, html_body: str, *, list_mail: bool) -> EmailMessage:
        # An internationalised address (EAI, RFC 6532) needs UTF-8 headers.
        international = not (recipient.email.isascii() and content.from_email.isascii()
                             and (content.reply_to or "").isascii())
        message = EmailMessage(policy=_POLICY.clone(utf8=True) if international else _POLICY)
        # Addresses are built from their parts by the standard library, which quotes or
        # encodes the display name: nothing in a name can become another recipient.
        for name, value in self._headers(content, recipient, message_id, list_mail=list_mail):
            message[name] = header_address(*value) if isinstance(value, tuple) else value
        for header, value in content.headers.items():
            message[header] = value
        message.set_content(text_body, subtype="plain", charset="utf-8")
        message.add_alternative(html_body, subtype="html", charset="utf-8")
        return message

    def _write(self, path: Path, data: bytes) -> None:
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
            # A full disk, a quota, a read-only or vanished folder: every further message
            # would fail the same way, so the send pauses until it is fixed.
            raise ProviderBlockedError(
                f"outbox: kan {path} niet schrijven: {exc.strerror}") from exc

    def close(self) -> None:
        """Nothing to release."""
