"""The editors' pages in headless Chromium: an editor logs in, approves and schedules an issue,
and cannot open the subscriber pages; axe-core finds no WCAG 2.1 A/AA violation on the overview
and every issue page at 375 and 1280 px.

A real uvicorn server on loopback serves ``create_app`` on a SQLite file of the module's own,
with an issues folder of its own and a fixed clock (before the sample's send time).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from digiweetjes.clock import FixedClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.models import IssueState, Role
from digiweetjes.release import get_release
from tests.admin_issues_support import ledger_line, reported, sent_campaign
from tests.admin_support import PASSWORD, make_user
from tests.browser_support import describe, horizontal_overflow, run_axe
from tests.live_server import free_port, live_app, live_environment, local_page
from tests.release_support import SAMPLE_ID, own_issues

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)
SECRET = "browser-admin-issues-secret-0123456789"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SENT_ID = "2026-06-02-zomereditie"


@dataclass
class Live:
    url: str
    settings: Settings
    db: Database


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("live-admin-issues")
    port = free_port()
    settings = own_issues(Settings.from_env(live_environment(root, port, SECRET)), root)
    db = Database(settings.database_url)
    db.upgrade()
    clock = FixedClock(NOW)
    for name, role in (("eva", Role.EDITOR), ("ali", Role.ADMIN)):
        make_user(db, settings, clock, name, role)
    # Figures for the overview, and a sent issue with failed and uncertain deliveries.
    _campaign, ids = sent_campaign(db, settings, NOW - timedelta(days=30), recipients=12,
                                   failed=2, uncertain=1, issue_id=SENT_ID)
    reported(db, "complaint", ids[5:6], NOW - timedelta(days=29))
    for days in (3, 10, 40, 100):
        ledger_line(db, "confirmed", NOW - timedelta(days=days))
    ledger_line(db, "unsubscribed", NOW - timedelta(days=10))
    with live_app(settings, db, clock, port=port) as url:
        yield Live(url, settings, db)
    db.dispose()


def _page(browser, live: Live, width: int = 1280):
    return local_page(browser, live.url, width)


def _log_in(page, live: Live, name: str, next_path: str = "/beheer") -> None:
    page.goto(f"{live.url}{next_path}")
    assert "/beheer/aanmelden" in page.url
    page.fill('input[name="naam"]', name)
    page.fill('input[name="wachtwoord"]', PASSWORD)
    page.click('main button[type="submit"]')
    page.wait_for_load_state("load")
    assert page.url == f"{live.url}{next_path}", page.inner_text("main")


def _submit(page, button_text: str) -> None:
    page.get_by_role("button", name=button_text).click()
    page.wait_for_load_state("load")


def test_an_editor_approves_and_schedules_an_issue(browser, live: Live) -> None:
    context, page = _page(browser, live)
    try:
        _log_in(page, live, "eva")
        page.get_by_role("link", name="Nummers", exact=True).click()
        page.wait_for_load_state("load")
        page.locator(f'a[href="/beheer/nummers/{SAMPLE_ID}"]').click()
        page.wait_for_load_state("load")
        assert "Geen problemen gevonden" in page.inner_text("main")
        frame = page.frame_locator("iframe").first
        assert "Voorbeeld" in frame.locator("body").inner_text()  # the preview is drawn
        _submit(page, "Goedkeuren")
        assert "Goedgekeurd." in page.inner_text('[role="status"]')
        release = get_release(live.db, SAMPLE_ID)
        assert release is not None and release.approved_by == "eva"
        page.fill('input[name="tijdstip"]', "2026-12-10T10:00")
        _submit(page, "Tijdstip wijzigen")
        assert page.inner_text('[role="status"]') == "Ingepland."
        release = get_release(live.db, SAMPLE_ID)
        assert release.state is IssueState.SCHEDULED
        assert release.send_at == datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
        assert "10 december 2026 om 10:00" in page.inner_text("main")
    finally:
        context.close()


def test_an_editor_cannot_open_the_subscriber_pages(browser, live: Live) -> None:
    context, page = _page(browser, live)
    try:
        _log_in(page, live, "eva")
        assert page.get_by_role("link", name="Abonnees", exact=True).count() == 0
        for path in ("/beheer/abonnees", "/beheer/abonnees/importeren", "/beheer/logboek"):
            answer = page.goto(f"{live.url}{path}")
            assert answer.status == 403, path
        assert "Hier heb je geen toegang" in page.inner_text("main")
    finally:
        context.close()


def _admin_pages() -> list[tuple[str, str]]:
    return [
        ("overzicht", "/beheer"),
        ("nummers", "/beheer/nummers"),
        ("nummer", f"/beheer/nummers/{SAMPLE_ID}"),
        ("verstuurd nummer", f"/beheer/nummers/{SENT_ID}"),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_nothing_on_the_issue_pages(browser, axe_source: str, live: Live,
                                              width: int) -> None:
    context, page = _page(browser, live, width)
    try:
        _log_in(page, live, "eva")
        for name, path in _admin_pages():
            answer = page.goto(f"{live.url}{path}")
            assert answer.status == 200, (name, answer.status)
            _check(page, axe_source, name, width)
        # A refused form: the page again with the error summary. ("a@b" passes the browser's
        # own check of an email field, not ours.)
        page.goto(f"{live.url}/beheer/nummers/{SAMPLE_ID}")
        page.fill('input[name="adres"]', "a@b")
        _submit(page, "Stuur mij een testmail")
        assert "geen geldig e-mailadres" in page.inner_text('[role="alert"]')
        _check(page, axe_source, "geweigerd formulier", width)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_nothing_on_an_admins_overview(browser, axe_source: str, live: Live,
                                                 width: int) -> None:
    context, page = _page(browser, live, width)
    try:
        _log_in(page, live, "ali", f"/beheer/nummers/{SENT_ID}")
        assert "lezer0000@example.be" in page.inner_text("main")  # admins see addresses
        _check(page, axe_source, "verstuurd nummer (beheerder)", width)
        page.goto(f"{live.url}/beheer")
        assert "Let op:" in page.inner_text("main")  # the complaint rate is over 0.1 %
        _check(page, axe_source, "overzicht (beheerder)", width)
    finally:
        context.close()


def _check(page, axe_source: str, name: str, width: int) -> None:
    violations = run_axe(page, axe_source, iframes=False)
    assert not violations, f"axe found violations on {name} at {width} px:\n" + describe(
        violations)
    scroll_width, viewport = horizontal_overflow(page)
    assert scroll_width <= viewport + 1, f"{name} scrolls sideways at {width} px"
    assert page.locator("h1").count() == 1, f"{name} has not exactly one h1"
    assert page.evaluate("document.documentElement.lang") == "nl-BE"
