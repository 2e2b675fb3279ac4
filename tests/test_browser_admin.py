"""The admin pages in headless Chromium: log in (after a wrong password), look around, log
out; axe-core on the login page, the overview and the audit log at 375 and 1280 px."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from digiweetjes.clock import SystemClock
from digiweetjes.config import PROJECT_ROOT, Secret, Settings
from digiweetjes.db import Database
from digiweetjes.models import Role
from tests.admin_support import PASSWORD, make_user
from tests.browser_support import describe, horizontal_overflow, run_axe
from tests.live_server import free_port, live_app, local_page

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)


@dataclass
class Live:
    url: str
    db: Database


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("live-admin")
    port = free_port()
    settings = Settings(
        root=root, issues_dir=PROJECT_ROOT / "issues", templates_dir=PROJECT_ROOT / "templates",
        site_dir=root / "site", outbox_dir=root / "outbox",
        database_url=f"sqlite:///{root / 'subscribers.db'}",
        base_url=f"http://127.0.0.1:{port}",
        secret_key=Secret("browser-admin-secret-key-0123456789"))
    db = Database(settings.database_url)
    db.upgrade()
    clock = SystemClock()
    make_user(db, settings, clock, "beheerder", Role.ADMIN)
    make_user(db, settings, clock, "redacteur", Role.EDITOR)
    with live_app(settings, db, clock, port=port) as url:
        yield Live(url, db)
    db.dispose()


def _page(browser, live: Live, width: int):
    return local_page(browser, live.url, width)


def _accessible(page, axe_source: str, what: str) -> None:
    violations = run_axe(page, axe_source)
    assert not violations, f"{what}:\n{describe(violations)}"
    scroll_width, width = horizontal_overflow(page)
    assert scroll_width <= width, f"{what}: {scroll_width} px wide in a {width} px window"


def _log_in(page, name: str, password: str) -> None:
    page.fill("#veld-naam", name)
    page.fill("#veld-wachtwoord", password)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_logs_in_looks_around_and_logs_out(browser, axe_source, live: Live,
                                                    width: int) -> None:
    context, page = _page(browser, live, width)
    try:
        page.goto(f"{live.url}/beheer/logboek")
        assert page.url.startswith(f"{live.url}/beheer/aanmelden?volgende=")
        _accessible(page, axe_source, f"login page at {width} px")

        _log_in(page, "beheerder", "not-the-password")
        assert "Naam of wachtwoord klopt niet" in page.inner_text(".error-summary")
        assert page.title().startswith("Fout: ")
        _accessible(page, axe_source, f"login page with an error at {width} px")

        _log_in(page, "beheerder", PASSWORD)
        assert page.url == f"{live.url}/beheer/logboek"  # back where they were going
        [cookie] = [c for c in context.cookies() if c["name"] == "digiweetjes_beheer"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert cookie["path"] == "/beheer"
        assert "aangemeld" in page.inner_text("table")
        _accessible(page, axe_source, f"audit log at {width} px")

        page.get_by_role("link", name="Overzicht").click()
        page.wait_for_load_state("load")
        assert page.inner_text("h1") == "Overzicht"
        _accessible(page, axe_source, f"overview at {width} px")

        page.get_by_role("button", name="Afmelden").click()
        page.wait_for_load_state("load")
        assert page.url == f"{live.url}/beheer/aanmelden?afgemeld=1"
        assert "Je bent afgemeld." in page.inner_text("main")
        _accessible(page, axe_source, f"logged out at {width} px")
        page.goto(f"{live.url}/beheer")
        assert page.url.startswith(f"{live.url}/beheer/aanmelden")
    finally:
        context.close()


def test_an_editor_sees_no_admin_links_and_gets_a_dutch_refusal(browser, axe_source,
                                                                 live: Live) -> None:
    context, page = _page(browser, live, 375)
    try:
        page.goto(f"{live.url}/beheer")
        _log_in(page, "redacteur", PASSWORD)
        assert page.url == f"{live.url}/beheer"
        nav = page.inner_text("nav")
        assert "Nummers" in nav and "Abonnees" not in nav and "Logboek" not in nav
        response = page.goto(f"{live.url}/beheer/logboek")
        assert response is not None and response.status == 403
        assert page.inner_text("h1") == "Hier heb je geen toegang"
        _accessible(page, axe_source, "refusal at 375 px")
    finally:
        context.close()
