"""Helpers for the public pages' tests: the client, the outbox's mails, tokens, CSRF, counts."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from sqlalchemy import func, select
from starlette.testclient import TestClient

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.models import ConsentEvent, MailThrottle, Subscriber, Suppression
from digiweetjes.providers.base import Provider
from digiweetjes.subscribers import confirm, find_subscriber, subscribe
from digiweetjes.subscribers.tokens import Purpose, make_token
from tests.helpers_subscribers import link_token
from tests.web_support import web_client

#: The site is https (the CSRF cookie is Secure): the client must speak https to get it back.
BASE = "https://testserver"
ADDRESS = "an.peeters@voorbeeld.be"
VALID = {"email": ADDRESS, "naam": "An Peeters", "gemeente": "Damme",
         "interesses": ["projectoproepen", "digitale-toegang"], "toestemming": "ja",
         "website": ""}
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
#: RFC 8058 one-click as a multipart form (also allowed): its body and Content-Type header.
_BOUNDARY = "digiweetjes-test"
ONE_CLICK_MULTIPART = (
    (f"--{_BOUNDARY}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
     f"One-Click\r\n--{_BOUNDARY}--\r\n").encode(),
    {"content-type": f"multipart/form-data; boundary={_BOUNDARY}"})
FORM = {"content-type": "application/x-www-form-urlencoded"}


def client_for(settings: Settings, db: Database, clock: Clock, *,
               provider: Provider | None = None) -> TestClient:
    """A TestClient on https, keeping cookies like a browser."""
    return web_client(settings, db, clock, provider=provider, base_url=BASE)


def outbox_mails(settings: Settings) -> list[email.message.EmailMessage]:
    """The service mails the outbox provider wrote, oldest first."""
    folder = Path(settings.outbox_dir) / "transactional"
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) \
        if folder.is_dir() else []
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore
            for p in files]


def text_of(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def mailed_token(settings: Settings, path: str, index: int = -1) -> str:
    """The token of the ``/<path>/`` link in a mail of the outbox (the last one by default)."""
    mails = outbox_mails(settings)
    assert mails, "no mail in the outbox"
    return link_token(text_of(mails[index]), path)


def csrf_field(html: str) -> str:
    """The hidden csrftoken of a page's form."""
    match = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert match, "no csrftoken field on the page"
    return match.group(1)


def counts(db: Database) -> tuple[int, int, int, int]:
    """Rows of subscribers, consent events, mail throttle and suppression."""
    with db.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore
                     for model in (Subscriber, ConsentEvent, MailThrottle, Suppression))


def status_of(db: Database, address: str = ADDRESS) -> str | None:
    with db.session() as session:
        found = find_subscriber(session, address)
        return None if found is None else str(found.status)


def active_subscriber(db: Database, settings: Settings, clock: Clock, provider: Provider,
                      address: str = ADDRESS) -> int:
    """An active subscriber made through the domain (subscribe + confirm); returns its id."""
    with db.session() as session:
        subscribe(session, provider, clock, settings, email=address, name="An Peeters")
    with db.session() as session:
        found = find_subscriber(session, address)
        assert found is not None
        token = make_token(settings, clock, Purpose.CONFIRM, found.email_hash or "")
        return confirm(session, clock, settings, token).id


def token_for(db: Database, settings: Settings, clock: Clock, purpose: Purpose,
              address: str = ADDRESS) -> str:
    """A fresh link token of this address's subscriber."""
    with db.session() as session:
        found = find_subscriber(session, address)
        assert found is not None
        return make_token(settings, clock, purpose, found.email_hash or "")
