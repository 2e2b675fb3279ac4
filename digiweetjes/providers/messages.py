"""What goes into each message and batch the HTTP adapters send, the same for all six.

The per-message headers (RFC 8058 one-click ``List-Unsubscribe``, the delivery reference), the
checks that keep a subject or a recipient from breaking a header, address formatting, the
reversible tag encoding Resend needs, chunking recipients into batches and the small
``multipart/form-data`` encoder Mailgun's messages travel in. Kept apart from the HTTP frame
(``providers.http``) so that adapters and tests can shape a message without a client.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Sequence
from typing import TypeVar

from digiweetjes.errors import PermanentProviderError
from digiweetjes.providers.base import BatchContent, Recipient

#: Header carrying the engine's delivery reference, for webhooks that echo message headers.
REFERENCE_HEADER = "X-Digiweetjes-Ref"
ONE_CLICK = "List-Unsubscribe=One-Click"

_CRLF = re.compile(r"[\r\n]")
_T = TypeVar("_T")


# -- recipients, headers, tags ----------------------------------------------------------------


def chunked(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """Consecutive slices of at most ``size`` items (the engine's batches for one provider)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start:start + size]


def check_subject(subject: str) -> None:
    """Refuse a subject that would break the message header (CR or LF), before any request."""
    if _CRLF.search(subject):
        raise PermanentProviderError("the subject contains a line break (CR or LF)")
    if not subject.strip():
        raise PermanentProviderError("the subject is empty")


def list_unsubscribe(recipient: Recipient, content: BatchContent) -> str:
    """The ``List-Unsubscribe`` value: the https one-click URL first, then the mailto."""
    return f"<{recipient.unsubscribe_url}>, {list_unsubscribe_mailto(content)}"


def list_unsubscribe_mailto(content: BatchContent) -> str:
    """The mailto half of ``List-Unsubscribe``, the same for every recipient of a batch."""
    return f"<mailto:{content.unsubscribe_mailto}?subject=uitschrijven>"


def message_headers(content: BatchContent, recipient: Recipient) -> dict[str, str]:
    """Every header one recipient's message carries (shared ones first, then per-recipient)."""
    headers = dict(content.headers)
    headers["List-Unsubscribe"] = list_unsubscribe(recipient, content)
    headers["List-Unsubscribe-Post"] = ONE_CLICK
    headers[REFERENCE_HEADER] = recipient.reference
    return headers


_URL_UNSAFE = re.compile(r"[\s<>]")
_ADDRESS_UNSAFE = re.compile(r"[\s<>,;]")


def _plain(value: str, unsafe: re.Pattern[str], specials: str) -> bool:
    """True when ``unsafe`` (whitespace and ``specials``) does not occur in ``value``."""
    # Printable ASCII has no whitespace but the space: plain string checks settle the common
    # case, the regex (which knows Unicode whitespace) the rest.
    if value.isascii() and value.isprintable():
        return " " not in value and not any(c in value for c in specials)
    return unsafe.search(value) is None


def _breaks(value: str) -> bool:
    return "\n" in value or "\r" in value


def recipient_problem(recipient: Recipient) -> str | None:
    """Why this recipient cannot go into a message header at all, or None."""
    email, url = recipient.email, recipient.unsubscribe_url
    for label, value in (("address", email), ("name", recipient.name or ""),
                         ("unsubscribe URL", url), ("reference", recipient.reference)):
        if _breaks(value):
            return f"the {label} contains a line break"
    if not url.startswith("https://") or not _plain(url, _URL_UNSAFE, "<>"):
        return "the unsubscribe URL is not a plain https URL"
    if "@" not in email or not _plain(email, _ADDRESS_UNSAFE, "<>,;"):
        return "the address is not a single email address"
    return None


def format_address(email_address: str, name: str | None) -> str:
    """``Name <email>``, quoting the name where RFC 5322 needs it (left in UTF-8 for JSON APIs)."""
    if not name:
        return email_address
    if re.search(r'[()<>\[\]:;@\\,."]', name):
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{email_address}>'
    return f"{name} <{email_address}>"


_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9-]")


def safe_tag_value(value: str, *, max_length: int = 256) -> str:
    """``value`` in ``[A-Za-z0-9_-]`` only (Resend tags), reversibly: ``_`` + two hex digits."""
    encoded = _TAG_UNSAFE.sub(lambda m: "".join(f"_{b:02x}" for b in m.group().encode()), value)
    if len(encoded) > max_length:
        raise PermanentProviderError(f"a tag value is longer than {max_length} characters")
    return encoded


def decode_tag_value(value: str) -> str:
    """Undo ``safe_tag_value`` (webhooks map the tag back to the delivery reference)."""
    return re.sub(r"(?:_[0-9a-f]{2})+",
                  lambda m: bytes.fromhex(m.group().replace("_", "")).decode(), value)


# -- multipart (Mailgun) ----------------------------------------------------------------------


def encode_multipart(fields: Sequence[tuple[str, str]]) -> tuple[bytes, str]:
    """``multipart/form-data`` of text fields (names may repeat); returns body and content type."""
    boundary = secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields:
        safe_name = name.replace('"', "%22").replace("\r", "").replace("\n", "")
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{safe_name}"\r\n'
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n".encode()
            + value.encode()
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
