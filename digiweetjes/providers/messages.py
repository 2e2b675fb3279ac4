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
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from typing import Literal, TypeVar

from digiweetjes.errors import PermanentProviderError
from digiweetjes.providers.base import BatchContent, Recipient

#: Header carrying the engine's delivery reference, for webhooks that echo message headers.
REFERENCE_HEADER = "X-Digiweetjes-Ref"
ONE_CLICK = "List-Unsubscribe=One-Click"

_T = TypeVar("_T")


# -- header values: the one set of rules (adapters, outbox, and send_issue before a freeze) ----

#: Characters that end a line somewhere: in RFC 5322 (CR, LF), in Python's ``splitlines`` and
#: in mail software that follows Unicode (NEL, LINE / PARAGRAPH SEPARATOR, VT, FF, FS/GS/RS).
LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
#: Bidirectional embeddings, overrides and isolates: they reorder what a reader sees.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: How an RFC 2047 encoded word starts: mail software (and Python's own parser) decodes it,
#: so in a name it could turn into syntax (``=?utf-8?q?Bcc=3A_x@y?=``).
ENCODED_WORD = "=?"

FaultKind = Literal["empty", "line-break", "nul", "control", "surrogate", "bidi",
                    "encoded-word", "address"]


@dataclass(frozen=True)
class HeaderFault:
    """Why a value cannot go into a mail header: what is wrong, and where (0-based)."""

    kind: FaultKind
    index: int = -1
    char: str = ""

    @property
    def codepoint(self) -> str:
        """The offending character as ``U+XXXX`` ("" when the fault is not one character)."""
        return f"U+{ord(self.char):04X}" if self.char else ""

    def __str__(self) -> str:
        return {
            "empty": "is empty",
            "line-break": f"contains a line break ({self.codepoint})",
            "nul": "contains a NUL character (U+0000)",
            "control": f"contains a control character ({self.codepoint})",
            "surrogate": f"contains an invalid character ({self.codepoint})",
            "bidi": f"contains a bidirectional control character ({self.codepoint})",
            "encoded-word": "contains an RFC 2047 encoded word ('=?')",
            "address": "is not a single email address",
        }[self.kind]


def header_fault(value: str) -> HeaderFault | None:
    """The first character that would break or disguise a header line, or None."""
    if value.isascii() and value.isprintable():
        return None  # printable ASCII, the common case: nothing to look at
    for index, char in enumerate(value):
        if char in LINE_BREAKS:
            return HeaderFault("line-break", index, char)
        if char == "\0":
            return HeaderFault("nul", index, char)
        if char in BIDI_CONTROLS:
            return HeaderFault("bidi", index, char)
        category = unicodedata.category(char)
        if category == "Cc":
            return HeaderFault("control", index, char)
        if category == "Cs":
            return HeaderFault("surrogate", index, char)
    return None


def _encoded_word(value: str) -> HeaderFault | None:
    index = value.find(ENCODED_WORD)
    return None if index < 0 else HeaderFault("encoded-word", index, "")


def name_fault(name: str | None) -> HeaderFault | None:
    """Why ``name`` cannot be a display name (From, To), or None; no name is no fault."""
    if not name:
        return None
    return header_fault(name) or _encoded_word(name)


def subject_fault(subject: str) -> HeaderFault | None:
    """Why ``subject`` cannot be a Subject header, or None."""
    if not subject.strip():
        return HeaderFault("empty")
    return header_fault(subject) or _encoded_word(subject)


def address_fault(address: str) -> HeaderFault | None:
    """Why ``address`` is not one plain email address for a header, or None."""
    fault = header_fault(address)
    if fault is not None:
        return fault
    if "@" not in address or not _plain(address, _ADDRESS_UNSAFE, "<>,;\"()[]:"):
        return HeaderFault("address")
    return None


def display_name(name: str | None) -> str | None:
    """The display name a header shows for ``name``: whitespace runs made one space, or None
    when there is none or it cannot be one (``name_fault``): the message then shows only the
    address, and nothing in a name can become another header or another recipient."""
    if not name or name_fault(name) is not None:
        return None
    return " ".join(name.split()) or None


def content_faults(content: BatchContent) -> list[tuple[str, HeaderFault]]:
    """Every header value of a batch's content that cannot go into a header: (field, fault).

    Field names are ``BatchContent``'s (``subject``, ``from_name``, ``reply_to``...).
    """
    found: list[tuple[str, HeaderFault | None]] = [
        ("subject", subject_fault(content.subject)),
        ("from_name", name_fault(content.from_name)),
        ("from_email", address_fault(content.from_email)),
        ("reply_to", address_fault(content.reply_to) if content.reply_to else None),
        ("unsubscribe_mailto", address_fault(content.unsubscribe_mailto)),
        ("tag", header_fault(content.tag) if content.tag.strip() else HeaderFault("empty")),
    ]
    found += [(f"header {name}", header_fault(name + value))
              for name, value in content.headers.items()]
    return [(field, fault) for field, fault in found if fault is not None]


def check_content(content: BatchContent, *, who: str = "") -> None:
    """Refuse a batch whose shared header values cannot go into a header, before any request.

    ``who`` prefixes the message (``"outbox: "``).
    """
    faults = content_faults(content)
    if faults:
        field, fault = faults[0]
        raise PermanentProviderError(f"{who}the {field.replace('_', ' ')} {fault}")


# -- recipients, headers, tags ----------------------------------------------------------------


def chunked(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """Consecutive slices of at most ``size`` items (the engine's batches for one provider)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start:start + size]


def check_subject(subject: str) -> None:
    """Refuse a subject that would break the message header, before any request."""
    fault = subject_fault(subject)
    if fault is not None:
        raise PermanentProviderError(f"the subject {fault}")


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


#: The headers that make a message list mail (RFC 2369, RFC 8058): never on transactional mail.
LIST_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


def transactional_headers(content: BatchContent, recipient: Recipient) -> dict[str, str]:
    """The headers of a transactional message (a confirmation): the shared ones and the delivery
    reference, never ``List-Unsubscribe`` (a confirmation is not list mail; RFC 8058 is for
    list mail, and an unsubscribe link in it would unsubscribe someone not yet subscribed)."""
    headers = {k: v for k, v in content.headers.items() if k not in LIST_HEADERS}
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


def recipient_problem(recipient: Recipient, *, require_unsubscribe_url: bool = True) -> str | None:
    """Why this recipient cannot go into a message header at all, or None (the outbox passes
    ``require_unsubscribe_url=False``: it writes any unsubscribe URL, or none)."""
    email, url = recipient.email, recipient.unsubscribe_url
    for label, fault in (("address", header_fault(email)), ("name", name_fault(recipient.name)),
                         ("unsubscribe URL", header_fault(url)),
                         ("reference", header_fault(recipient.reference))):
        if fault is not None:
            return f"the {label} {fault}"
    # The outbox (demo, review) takes any URL, or none; mail services want one-click https.
    if require_unsubscribe_url and (
            not url.startswith("https://") or not _plain(url, _URL_UNSAFE, "<>")):
        return "the unsubscribe URL is not a plain https URL"
    if address_fault(email) is not None:
        return "the address is not a single email address"
    return None


def format_address(email_address: str, name: str | None) -> str:
    """``Name <email>`` for JSON APIs (left in UTF-8), quoted by the standard library.

    The name is ``display_name(name)``: one that could not be a display name is left out.
    """
    return str(header_address(email_address, name))


def header_address(email_address: str, name: str | None) -> Address:
    """The ``email.headerregistry.Address`` of a header: ``display_name(name)`` and the address.

    Built from its parts, never parsed: an internationalised local part (RFC 6532) stays as it
    is, and nothing in the name is read as syntax.
    """
    local, _, domain = email_address.rpartition("@")
    return Address(display_name(name) or "", username=local, domain=domain)


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
