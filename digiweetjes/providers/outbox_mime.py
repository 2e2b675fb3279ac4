"""The outbox's message bytes, written directly for the common case.

Building an ``EmailMessage`` with the standard library's modern policy parses every header it
is given back into a tree (the header registry) and folds it again on output: most of the cost
of a confirmation mail written by the outbox, many times the cost of the file write. Most
messages need none of that: ASCII addresses, a plain or UTF-8 subject, UTF-8 bodies.
``fast_message`` writes those directly, in the form the standard library gives them (8bit or
quoted-printable bodies, RFC 2047 encoded words for a non-ASCII subject or name), and returns
None for anything else, which the outbox then builds the standard library's way.
``test_outbox_mime`` parses both and checks they say the same.
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Iterable, Mapping
from email.header import Header
from email.utils import formataddr
from functools import lru_cache

_MAX_LINE = 998  # RFC 5322 (and the outbox's policy)


@lru_cache(maxsize=256)
def _header_text(value: str) -> str | None:
    """A header value as written: ASCII as it is, otherwise RFC 2047 words; None: not here.
    Cached: a batch's subject and sender are the same for every recipient."""
    if "\r" in value or "\n" in value:
        return None
    if value.isascii():
        return value if len(value) <= _MAX_LINE - 40 else None
    return Header(value, "utf-8", maxlinelen=76).encode(linesep="\r\n")


def _address(email: str, name: str | None) -> str | None:
    if not email.isascii():
        return None  # an internationalised address needs the standard library's UTF-8 mode
    # formataddr quotes a name with specials and encodes a non-ASCII one (RFC 2047).
    return formataddr((name or "", email), charset="utf-8")


def _body(text: str) -> tuple[bytes, str] | None:
    """A body with CRLF line ends and its transfer encoding: 8bit when every line is short
    enough, else quoted-printable (an email's HTML is often one long line); None for a bare CR,
    which only the standard library's way should interpret."""
    plain = text.replace("\r\n", "\n")
    if "\r" in plain:
        return None
    if not plain.endswith("\n"):
        plain += "\n"
    data = plain.encode("utf-8")
    if all(len(line) <= _MAX_LINE for line in data.split(b"\n")):
        return data.replace(b"\n", b"\r\n"), "8bit"
    # binascii's (C) encoder: soft line breaks at 76 characters; hard breaks stay.
    encoded = binascii.b2a_qp(data, istext=True)
    return encoded.replace(b"\n", b"\r\n"), "quoted-printable"


def fast_message(headers: Iterable[tuple[str, str | tuple[str, str | None]]],
                 extra: Mapping[str, str], text: str, html: str) -> bytes | None:
    """The message's bytes, or None when it needs the standard library's way.

    ``headers`` in order; an address header's value is ``(email, display name)``.
    """
    lines = []
    for name, value in headers:
        written = _address(*value) if isinstance(value, tuple) else _header_text(value)
        if written is None:
            return None
        lines.append(f"{name}: {written}")
    for name, value in extra.items():
        if not (name.isascii() and value.isascii()):
            return None
        written = _header_text(value)
        if written is None:
            return None
        lines.append(f"{name}: {written}")
    text_part, html_part = _body(text), _body(html)
    if text_part is None or html_part is None:
        return None
    boundary = "===============" + secrets.token_hex(12) + "=="
    marker = boundary.encode()
    if marker in text_part[0] or marker in html_part[0]:
        return None
    lines += ["MIME-Version: 1.0",
              f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    # The line break before a boundary belongs to the boundary (RFC 2046), not to the body.
    part = ('\r\n--{b}\r\nContent-Type: text/{kind}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: {cte}\r\n\r\n")
    return b"".join([
        "\r\n".join(lines).encode("ascii"),
        part.format(b=boundary, kind="plain", cte=text_part[1]).encode("ascii"), text_part[0],
        part.format(b=boundary, kind="html", cte=html_part[1]).encode("ascii"), html_part[0],
        f"\r\n--{boundary}--\r\n".encode("ascii"),
    ])
