"""Reading the outbox like a mailbox: the mails one address received, and their links."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path


def mails_to(outbox: Path, address: str) -> list[EmailMessage]:
    """Every .eml in ``outbox`` addressed to ``address``, oldest first."""
    found = []
    for path in sorted(outbox.rglob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if address.lower() in str(message["To"]).lower():
            found.append(message)
    return found


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "the mail has no HTML part"
    return part.get_content()


def link(message: EmailMessage, path: str) -> str:
    """The first link in the mail's HTML whose path starts with ``path`` (e.g. /bevestigen/)."""
    match = re.search(r'href="(https?://[^"]*' + re.escape(path) + r'[^"]*)"', html_of(message))
    assert match, f"no {path} link in the mail"
    return match.group(1).replace("&amp;", "&")


def one_click_url(message: EmailMessage) -> str:
    """The https(/http) target of the mail's List-Unsubscribe header (RFC 8058)."""
    header = str(message["List-Unsubscribe"])
    match = re.search(r"<(https?://[^>]+)>", header)
    assert match, f"no URL in List-Unsubscribe: {header!r}"
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    return match.group(1)
