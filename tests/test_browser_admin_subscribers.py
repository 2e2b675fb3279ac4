"""The admin subscriber pages in headless Chromium: an admin logs in, imports a CSV (dry run,
then the import), finds a person and erases them; axe-core finds no WCAG 2.1 A/AA violation on
any subscriber page at 375 and 1280 px.

A real uvicorn server on loopback serves ``create_app`` on a SQLite file; mails go to the outbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from digiweetjes.clock import SystemClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.models import Role, Subscriber
from tests.admin_support import PASSWORD, make_user
from tests.browser_support import describe, horizontal_overflow, run_axe
from tests.live_server import free_port, live_app, live_environment, local_page

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)
SECRET = "browser-admin-subscribers-secret-0123456789"
ADMIN = "beheerder-an"


@dataclass
class Live:
    url: str
    settings: Settings
    db: Database
    root: Path

    def subscriber(self, email: str) -> Subscriber | None:
        with self.db.session() as session:
            found = session.scalars(select(Subscriber).where(
                Subscriber.email_key == email.lower())).one_or_none()
            if found is not None:
                session.expunge(found)
            return found


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("live-admin")
    port = free_port()
    env = live_environment(root, port, SECRET)
    settings = Settings.from_env(env)
    db = Database(settings.database_url)
    db.upgrade()
    clock = SystemClock()
    make_user(db, settings, clock, ADMIN, Role.ADMIN)
    with live_app(settings, db, clock, port=port) as url:
        yield Live(url, settings, db, root)
    db.dispose()


def _logged_in(browser, live: Live, width: int = 1280):
    context, page = local_page(browser, live.url, width, accept_downloads=True)
    page.goto(f"{live.url}/beheer/abonnees")
    assert "/beheer/aanmelden" in page.url
    page.fill("#veld-naam", ADMIN)
    page.fill("#veld-wachtwoord", PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/beheer/abonnees"), page.url
    return context, page


def _check(page, axe_source: str, what: str) -> None:
    violations = run_axe(page, axe_source)
    assert not violations, f"{what} at {page.viewport_size}:\n{describe(violations)}"
    scroll, inner = horizontal_overflow(page)
    assert scroll <= inner, f"{what} scrolls sideways at {page.viewport_size}: {scroll} > {inner}"


def _csv(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    return path


def test_an_admin_imports_a_csv_finds_a_person_and_erases_them(browser, live: Live,
                                                              tmp_path) -> None:
    context, page = _logged_in(browser, live)
    try:
        page.get_by_role("link", name="CSV-bestand importeren").click()
        page.fill("#veld-toestemming", "inschrijvingslijst infosessie Damme 2026-03-12")
        page.set_input_files("#veld-bestand", str(_csv(tmp_path, "leden.csv", [
            "E-mailadres;Naam;Gemeente",
            "saar.peeters@example.be;Saar Peeters;Damme",
            "bram.declercq@example.be;Bram Declercq;Brugge"])))
        page.get_by_role("button", name="Controleren").click()
        page.wait_for_load_state("load")
        assert "Controle van leden.csv" in page.inner_text("h1")
        assert "er is nog niets veranderd" in page.inner_text("main")
        assert live.subscriber("saar.peeters@example.be") is None  # the dry run wrote nothing
        page.get_by_role("button", name="Importeren").click()
        page.wait_for_load_state("load")
        assert "2 abonnees toegevoegd (status: actief)" in page.inner_text("main")
        assert live.subscriber("saar.peeters@example.be").status == "active"

        page.get_by_role("link", name="Terug naar de lijst van abonnees").click()
        page.fill("#veld-zoek", "peeters")
        page.get_by_role("button", name="Zoeken").click()
        page.wait_for_load_state("load")
        assert "1 abonnee gevonden" in page.inner_text("main")
        page.get_by_role("link", name="saar.peeters@example.be").click()
        page.wait_for_load_state("load")
        assert "Saar Peeters" in page.inner_text("main")
        assert "geïmporteerd" in page.inner_text("main")  # the consent history

        page.get_by_role("link", name="Alle gegevens wissen…").click()
        page.fill("#veld-bevestig-adres", "iemand.anders@example.be")
        page.get_by_role("button", name="Definitief wissen").click()
        page.wait_for_load_state("load")
        assert "precies over" in page.inner_text("main")
        assert live.subscriber("saar.peeters@example.be").status == "active"
        page.fill("#veld-bevestig-adres", "saar.peeters@example.be")
        page.get_by_role("button", name="Definitief wissen").click()
        page.wait_for_load_state("load")
        assert "Gewiste abonnee" in page.inner_text("h1")
        assert "saar.peeters@example.be" not in page.content()
        assert live.subscriber("saar.peeters@example.be") is None
        assert live.subscriber("bram.declercq@example.be").status == "active"
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_subscriber_page_passes_axe(browser, axe_source: str, live: Live, tmp_path,
                                          width: int) -> None:
    context, page = _logged_in(browser, live, width)
    try:
        _check(page, axe_source, "the list")
        page.get_by_role("link", name="Abonnee toevoegen").click()
        _check(page, axe_source, "the add form")
        page.fill("#veld-email", "geen-adres")
        page.get_by_role("button", name="Toevoegen").click()
        page.wait_for_load_state("load")
        assert "Er is een probleem" in page.inner_text("main")
        _check(page, axe_source, "the add form with an error")
        email = f"lotte.{width}@example.be"
        page.fill("#veld-email", email)
        page.fill("#veld-naam", "Lotte Maes")
        page.select_option("#veld-gemeente", "Jabbeke")
        page.get_by_role("button", name="Toevoegen").click()
        page.wait_for_load_state("load")
        assert "De abonnee is toegevoegd." in page.inner_text("main")
        _check(page, axe_source, "a person's page")
        person_url = page.url.split("?")[0]
        page.get_by_role("link", name="Alle gegevens wissen…").click()
        _check(page, axe_source, "the erase confirmation")
        page.get_by_role("button", name="Definitief wissen").click()
        page.wait_for_load_state("load")
        _check(page, axe_source, "the erase confirmation with an error")
        page.goto(person_url)
        page.get_by_role("button", name="Uitschrijven").click()
        page.wait_for_load_state("load")
        _check(page, axe_source, "an unsubscribed person's page")

        page.goto(f"{live.url}/beheer/abonnees/importeren")
        _check(page, axe_source, "the import form")
        page.set_input_files("#veld-bestand", str(_csv(tmp_path, "fout.csv", [
            "E-mailadres;Naam;Gemeente", "geen-adres;Jan;Brugge", "x@example.be;X;Gent"])))
        page.get_by_role("button", name="Controleren").click()
        page.wait_for_load_state("load")
        assert "er is niets geïmporteerd" in page.inner_text("main")
        _check(page, axe_source, "an import report with rejected rows")
        page.goto(f"{live.url}/beheer/abonnees/importeren")
        empty = tmp_path / "leeg.csv"
        empty.write_bytes(b"")
        page.set_input_files("#veld-bestand", str(empty))
        page.get_by_role("button", name="Controleren").click()
        page.wait_for_load_state("load")
        _check(page, axe_source, "the import form with an error")
        page.set_input_files("#veld-bestand", str(_csv(tmp_path, "nieuw.csv", [
            "E-mailadres;Naam", f"nieuw.{width}@example.be;Nieuw"])))
        page.get_by_role("button", name="Controleren").click()
        page.wait_for_load_state("load")
        _check(page, axe_source, "an import's dry run")
        page.get_by_role("button", name="Importeren").click()
        page.wait_for_load_state("load")
        _check(page, axe_source, "an import's result")

        page.goto(f"{live.url}/beheer/abonnees?q=lotte&status=unsubscribed")
        _check(page, axe_source, "a filtered list")
        page.goto(f"{live.url}/beheer/abonnees/999999")
        _check(page, axe_source, "the page of nobody")
    finally:
        context.close()
