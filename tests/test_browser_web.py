"""The public web app in headless Chromium: sign up, confirm, receive, unsubscribe, preferences.

A real uvicorn server on loopback serves ``create_app`` on a SQLite file; mails go to the outbox
and are opened from there like a mailbox; an issue is sent through the CLI's send door. axe-core
checks every public page at 375 and 1280 px.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from digiweetjes.cli import main as cli_main
from digiweetjes.clock import SystemClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.models import Subscriber
from digiweetjes.site import build_site
from tests.browser_support import describe, horizontal_overflow, run_axe
from tests.live_server import free_port, live_app, live_environment, local_page
from tests.mailbox_support import link, mails_to, one_click_url
from tests.release_support import SAMPLE_ID, approved

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)
SECRET = "browser-web-secret-key-0123456789"


@dataclass
class Live:
    url: str
    settings: Settings
    db: Database

    @property
    def outbox(self) -> Path:
        return self.settings.outbox_dir

    def subscriber(self, email: str) -> Subscriber:
        with self.db.session() as session:
            found = session.scalars(select(Subscriber).where(
                Subscriber.email_key == email.lower())).one()
            session.expunge(found)
            return found


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("live-web")
    port = free_port()
    env = live_environment(root, port, SECRET)
    settings = Settings.from_env(env)
    db = Database(settings.database_url)
    db.upgrade()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with live_app(settings, db, SystemClock(), port=port) as url:
            yield Live(url, settings, db)
    db.dispose()


def _page(browser, live: Live, width: int = 1280):
    return local_page(browser, live.url, width)


def _sign_up(page, live: Live, email: str, *, municipality: str = "Brugge") -> None:
    page.goto(f"{live.url}/inschrijven")
    form = page.locator('main form[action$="/inschrijven"]').first
    form.locator('input[name="email"]').fill(email)
    form.locator('input[name="naam"]').fill("Lieve Vermeulen")
    form.locator('select[name="gemeente"]').select_option(municipality)
    form.locator('input[name="interesses"]').first.check()
    form.locator('input[name="toestemming"]').check()
    form.locator('button[type="submit"]').click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/inschrijven/verstuurd")
    assert "mailbox" in page.inner_text("main").lower()


def _confirm_from_mailbox(page, live: Live, email: str) -> None:
    [confirmation] = mails_to(live.outbox, email)
    page.goto(link(confirmation, "/bevestigen/"))
    assert live.subscriber(email).status == "pending"   # opening the link alone confirms nothing
    page.locator('main form button[type="submit"]').first.click()
    page.wait_for_load_state("load")
    assert "bevestigd" in page.inner_text("h1").lower(), page.inner_text("main")
    assert live.subscriber(email).status == "active"


def _send_issue(live: Live) -> None:
    approved(live.db, live.settings)
    assert cli_main(["send", SAMPLE_ID, "--yes"]) == 0


@pytest.fixture(scope="module")
def readers(browser, live: Live) -> list[str]:
    """Three people who signed up and confirmed in the browser, then received the issue."""
    emails = ["lieve@example.be", "jonas@example.be", "amal@example.be"]
    context, page = _page(browser, live)
    try:
        for email in emails:
            _sign_up(page, live, email)
            _confirm_from_mailbox(page, live, email)
    finally:
        context.close()
    _send_issue(live)
    return emails


def _issue_mail(live: Live, email: str):
    mails = [m for m in mails_to(live.outbox, email) if m["List-Unsubscribe"]]
    assert len(mails) == 1, f"{email} got {len(mails)} newsletters"
    return mails[0]


def test_one_click_from_the_mail_header_unsubscribes_without_cookies(browser, live,
                                                                      readers) -> None:
    email = readers[0]
    target = one_click_url(_issue_mail(live, email))
    assert target.startswith(f"{live.url}/uitschrijven/")
    context = browser.new_context()   # what a mail client posts: no cookies, no page first
    try:
        answer = context.request.post(target, form={"List-Unsubscribe": "One-Click"},
                                      max_redirects=0)
        assert answer.status == 200
        assert "set-cookie" not in {k.lower() for k in answer.headers}
        assert live.subscriber(email).status == "unsubscribed"
        assert context.request.post(target, form={"List-Unsubscribe": "One-Click"}).status == 200
    finally:
        context.close()


def test_unsubscribe_through_the_page_of_the_mail_link(browser, live, readers) -> None:
    email = readers[1]
    context, page = _page(browser, live)
    try:
        page.goto(link(_issue_mail(live, email), "/uitschrijven/"))
        assert live.subscriber(email).status == "active"   # GET only shows the button
        page.locator('main form button[type="submit"]').first.click()
        page.wait_for_load_state("load")
        assert "uitgeschreven" in page.inner_text("h1").lower()
        assert live.subscriber(email).status == "unsubscribed"
    finally:
        context.close()


def test_change_preferences_from_the_mail_link(browser, live, readers) -> None:
    email = readers[2]
    context, page = _page(browser, live)
    try:
        page.goto(link(_issue_mail(live, email), "/voorkeuren/"))
        form = page.locator("main form").first
        form.locator('select[name="gemeente"]').select_option("Damme")
        boxes = form.locator('input[name="interesses"]')
        for i in range(boxes.count()):
            boxes.nth(i).uncheck()
        boxes.nth(1).check()
        chosen = boxes.nth(1).get_attribute("value")
        form.locator('button[type="submit"]').first.click()
        page.wait_for_load_state("load")
        assert "bewaard" in page.inner_text("main").lower()
        person = live.subscriber(email)
        assert person.municipality == "Damme" and person.topics == [chosen]
        assert person.status == "active"
    finally:
        context.close()


def _public_pages(live: Live) -> list[tuple[str, str]]:
    """(name, URL) of every public page a visitor can land on, links from a real mail."""
    email = "axe@example.be"
    with httpx.Client(base_url=live.url) as client:
        answer = client.post("/inschrijven", data={"email": email, "toestemming": "ja"})
        assert answer.status_code == 303
    [confirmation] = mails_to(live.outbox, email)
    return [
        ("inschrijven", "/inschrijven"),
        ("verstuurd", "/inschrijven/verstuurd"),
        ("bevestigen", link(confirmation, "/bevestigen/")),
        ("privacy", "/privacy"),
        ("voorkeuren-zonder-link", "/voorkeuren"),
        ("uitschrijven-zonder-link", "/uitschrijven"),
        ("vervalste-link", "/uitschrijven/dit-is-geen-echte-link"),
        ("niet-gevonden", "/bestaat-niet"),
        ("archief", "/"),
        ("projectoproepen", "/projectoproepen.html"),
        ("nummer", f"/archief/{SAMPLE_ID}.html"),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_public_page_passes_axe(browser, axe_source: str, live, readers,
                                      width: int) -> None:
    build_site(live.settings)
    pages = _public_pages(live)
    pages.append(("verlopen-link", _expired_confirm_link(live)))
    mail = _issue_mail(live, readers[2])   # still subscribed: its links still work
    pages += [("voorkeuren", link(mail, "/voorkeuren/")),
              ("uitschrijven", link(mail, "/uitschrijven/"))]
    context, page = _page(browser, live, width)
    try:
        for name, url in pages:
            page.goto(url if url.startswith("http") else live.url + url)
            _check(page, axe_source, name, width)
        # The answer pages behind the forms, as a new reader goes through them.
        page.goto(f"{live.url}/inschrijven")
        page.locator('main form[action$="/inschrijven"] button[type="submit"]').first.click()
        page.wait_for_load_state("load")
        assert "Er is een probleem" in page.inner_text("main")
        _check(page, axe_source, "inschrijven-met-fouten", width)
        email = f"axe-{width}@example.be"
        _sign_up(page, live, email)
        _confirm_from_mailbox(page, live, email)
        _check(page, axe_source, "bevestigd", width)
        page.locator("main a[href*='/voorkeuren/']").first.click()
        page.wait_for_load_state("load")
        preferences = page.url
        page.locator("main form button[type='submit']").first.click()
        page.wait_for_load_state("load")
        assert "bewaard" in page.inner_text("main").lower()
        _check(page, axe_source, "voorkeuren-bewaard", width)
        page.goto(preferences)
        page.locator("main form[action*='/uitschrijven/'] button[type='submit']").first.click()
        page.wait_for_load_state("load")
        assert live.subscriber(email).status == "unsubscribed"
        _check(page, axe_source, "uitgeschreven", width)
    finally:
        context.close()


def _expired_confirm_link(live: Live) -> str:
    """A confirmation link issued eight days ago (they last seven)."""
    from datetime import timedelta

    from digiweetjes.clock import FixedClock
    from digiweetjes.links import confirm_url
    from digiweetjes.subscribers.tokens import Purpose, make_token

    person = live.subscriber("lieve@example.be")
    issued = FixedClock(SystemClock().now() - timedelta(days=8))
    return confirm_url(live.settings, make_token(live.settings, issued, Purpose.CONFIRM,
                                                 person.email_hash or ""))


def _check(page, axe_source: str, name: str, width: int) -> None:
    violations = run_axe(page, axe_source)
    assert not violations, f"axe found violations on {name} at {width} px:\n" + describe(
        violations)
    scroll_width, viewport = horizontal_overflow(page)
    assert scroll_width <= viewport + 1, f"{name} scrolls sideways at {width} px"
    assert page.locator("h1").count() == 1, f"{name} has not exactly one h1"
    assert page.evaluate("document.documentElement.lang") == "nl-BE"
