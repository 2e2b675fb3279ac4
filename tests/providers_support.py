"""Shared builders for the provider tests: content, recipients, one adapter of each kind."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from digiweetjes.config import Secret
from digiweetjes.providers.base import Batch, BatchContent, Recipient
from digiweetjes.providers.brevo import BrevoProvider
from digiweetjes.providers.http import HttpProvider
from digiweetjes.providers.mailgun import MailgunProvider
from digiweetjes.providers.mailjet import MailjetProvider
from digiweetjes.providers.postmark import PostmarkProvider
from digiweetjes.providers.resend import ResendProvider
from digiweetjes.providers.sendgrid import SendGridProvider
from digiweetjes.render.placeholders import FillableTemplate
from digiweetjes.render.placeholders import placeholder as P

KEY = "sk-TESTKEY-5f3a9c1e-do-not-leak"
KEY2 = "sk-SECOND-77c0b1d2-do-not-leak"

#: Every provider's own syntax, which must reach the recipient verbatim.
TRICKY = ("{{ params.x }} {{x}} {% if 1 %}{# c #} {{var:x}} {{var:x:\"d\"}} %recipient.email% "
          "%recipient% %unsubscribe_url% -dw-h-name- 100% {{{ { } }}} {")


def content(*, tricky: bool = False, subject: str = "Digi-weetjes december 2026") -> BatchContent:
    extra = TRICKY if tricky else ""
    html = (f"<html><body><p>Dag {P('name')},</p><p>{extra}</p>"
            f"<p>{P('municipality_block')}</p><a href=\"{P('unsubscribe_url')}\">uit</a>"
            f"{'{' if tricky else ''}</body></html>")
    text = f"Dag {P('name')},\n{extra}\n{P('municipality_block')}\nUit: {P('unsubscribe_url')}"
    return BatchContent(
        issue_id="2026-12", subject=subject + (" {{ x }} %recipient.y%" if tricky else ""),
        html=FillableTemplate.parse(html), text=FillableTemplate.parse(text),
        placeholders=["name", "municipality_block", "unsubscribe_url"],
        from_email="digiweetjes@werkkracht10.be", from_name="Werkkracht10 Digi-weetjes",
        reply_to="info@werkkracht10.be", unsubscribe_mailto="uitschrijven@werkkracht10.be",
        tag="digiweetjes-2026-12")


def recipient(i: int, *, email: str | None = None) -> Recipient:
    name = f"Jan & Piet <{i}> {{{{ x }}}} %recipient.a%"
    url = f"https://digiweetjes.example.be/u/tok{i}"
    return Recipient(
        reference=f"del-{i}", email=email or f"lid{i}@example.be", name=f"Lid {i}",
        html_values={"name": name.replace("&", "&amp;").replace("<", "&lt;")
                     .replace(">", "&gt;"),
                     "municipality_block": f"<b>Brugge</b> {i}", "unsubscribe_url": url},
        text_values={"name": name, "municipality_block": f"Brugge {i}", "unsubscribe_url": url},
        unsubscribe_url=url)


def batch(n: int, *, tricky: bool = False, key: str | None = None, start: int = 0) -> Batch:
    return Batch(content(tricky=tricky), [recipient(i) for i in range(start, start + n)], key)


Factory = Callable[..., HttpProvider]

FACTORIES: dict[str, Factory] = {
    "brevo": lambda **kw: BrevoProvider(Secret(KEY), **kw),
    "postmark": lambda **kw: PostmarkProvider(Secret(KEY), **kw),
    "sendgrid": lambda **kw: SendGridProvider(Secret(KEY), **kw),
    "mailgun": lambda **kw: MailgunProvider(Secret(KEY), "mg.werkkracht10.be", **kw),
    "mailjet": lambda **kw: MailjetProvider(Secret(KEY), Secret(KEY2), **kw),
    "resend": lambda **kw: ResendProvider(Secret(KEY), **kw),
}


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)
