"""The outbox's direct message writer says what the standard library's message says.

``outbox_mime.fast_message`` writes most messages without ``EmailMessage``; for each case here
the outbox writes the message both ways and a parser must read the same headers and bodies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pytest

from digiweetjes.clock import FixedClock
from digiweetjes.providers.base import BatchContent, Recipient
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.providers.outbox_mime import fast_message
from digiweetjes.render.placeholders import FillableTemplate, placeholder

LONG_LINE = "wóórd " * 300  # 2,400 bytes on one line: too long for 8bit, quoted-printable


def _content(subject: str, body: str, from_name: str) -> BatchContent:
    return BatchContent(
        issue_id="2026-12-05", subject=subject,
        html=FillableTemplate.parse(f"<p>{placeholder('greeting')}</p><p>{body}</p>"),
        text=FillableTemplate.parse(f"{placeholder('greeting')}\n\n{body}\n"),
        placeholders=("greeting",), from_email="digiweetjes@werkkracht10.be",
        from_name=from_name, reply_to="info@werkkracht10.be",
        unsubscribe_mailto="uitschrijven@werkkracht10.be", tag="issue-1",
        headers={"X-Campaign": "nr-1"})


def _recipient(email: str, name: str | None) -> Recipient:
    url = "https://digiweetjes.example.be/uitschrijven/tok?a=1&b=2"
    return Recipient(reference="r-1", email=email, name=name,
                     html_values={"greeting": "Dag &amp; welkom,"},
                     text_values={"greeting": "Dag & welkom,"}, unsubscribe_url=url)


CASES = [
    ("plain ASCII", "Digi-weetjes nr. 1", "Tekst", "Werkkracht10", "jan@voorbeeld.be", "Jan"),
    ("UTF-8 subject and name", "Één oproep — € 50 miljoen ✓", "Zoë’s tekst: één, twee",
     "Werkkracht10 · Digi-weetjes", "zoe@voorbeeld.be", "Zoë D'Hondt-Ça"),
    ("specials in names", "Nr. 2", "x", 'Werk "kracht" 10', "a.b@voorbeeld.be",
     "Peeters, Jan (OCMW) <baas>"),
    ("no name", "Nr. 3", "x", "Werkkracht10", "c@voorbeeld.be", None),
    ("a long line", "Nr. 4", LONG_LINE, "Werkkracht10", "d@voorbeeld.be", "D"),
    ("a long line with =, tabs and trailing spaces", "Nr. 4", "a=b\tc  \n" + LONG_LINE + " ",
     "Werkkracht10", "d@voorbeeld.be", "D"),
    ("an emoji and CRLF in a body", "🎉 Nieuw", "regel één\r\nregel twee 🎉",
     "Werkkracht10", "e@voorbeeld.be", "É"),
    ("an internationalised address", "Nr. 5", "x", "Werkkracht10", "zoë@voorbeeld.be", "Zoë"),
]


def _read(data: bytes):  # type: ignore[no-untyped-def]
    message = BytesParser(policy=policy.default).parsebytes(data)
    text, html = (part.get_content() for part in message.iter_parts())
    headers = {name: str(message[name]) for name in (
        "From", "To", "Reply-To", "Subject", "Date", "List-Unsubscribe",
        "List-Unsubscribe-Post", "X-Digiweetjes-Tag", "X-Digiweetjes-Reference", "X-Campaign")}
    addresses = [(a.display_name, a.addr_spec) for name in ("From", "To")
                 for a in message[name].addresses]
    return (headers, addresses, message.get_content_type(),
            [part.get_content_type() for part in message.iter_parts()],
            text.replace("\r\n", "\n"), html.replace("\r\n", "\n"), message.defects)


@pytest.mark.parametrize(("case", "subject", "body", "from_name", "email", "name"), CASES,
                         ids=[c[0] for c in CASES])
def test_direct_and_standard_messages_read_the_same(
        case: str, subject: str, body: str, from_name: str, email: str, name: str | None) -> None:
    outbox = OutboxProvider("unused", clock=FixedClock(datetime(2026, 12, 5, 7, tzinfo=UTC)))
    content, recipient = _content(subject, body, from_name), _recipient(email, name)
    text_body = content.text.fill(recipient.text_values)
    html_body = content.html.fill(recipient.html_values)
    headers = outbox._headers(content, recipient, "<id@werkkracht10.be>", list_mail=True)
    direct = fast_message(headers, content.headers, text_body, html_body)
    standard = outbox._message(content, recipient, "<id@werkkracht10.be>", text_body,
                               html_body, list_mail=True).as_bytes()
    if case == "an internationalised address":
        assert direct is None  # left to the standard library
        return
    assert direct is not None
    assert _read(direct) == _read(standard)
    assert all(len(line) <= 998 for line in direct.split(b"\r\n"))
    assert b"\n" not in direct.replace(b"\r\n", b"")  # CRLF line ends only


def test_a_name_with_a_line_break_is_never_written_directly() -> None:
    headers = [("To", ("jan@voorbeeld.be", "Jan")), ("Subject", "a\r\nBcc: x@y.be")]
    assert fast_message(headers, {}, "x", "y") is None
