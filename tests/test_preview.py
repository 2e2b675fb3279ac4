"""The editor's live preview: renders, re-renders on change, shows content errors in Dutch."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from digiweetjes.config import PROJECT_ROOT, Settings
from digiweetjes.site.preview import create_preview_app

SAMPLE = "2026-12-05-overzicht-projectoproepen.md"


@pytest.fixture
def workspace(settings: Settings, tmp_path: Path) -> tuple[Settings, Path]:
    """Private copies of issues/ and templates/, so the test can edit them like an editor."""
    issues = tmp_path / "issues"
    templates = tmp_path / "templates"
    shutil.copytree(PROJECT_ROOT / "issues", issues)
    shutil.copytree(PROJECT_ROOT / "templates", templates)
    return settings.with_(issues_dir=issues, templates_dir=templates), issues / SAMPLE


def _touch_later(path: Path) -> None:
    """Make sure the change is visible even on file systems with coarse timestamps."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    _touch_later(path)


def test_preview_page_shows_both_widths(workspace) -> None:
    settings, draft = workspace
    client = TestClient(create_preview_app(settings, draft))
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="nl-BE">' in page.text
    assert 'src="/email" width="800"' in page.text and 'src="/email" width="375"' in page.text
    assert 'title="Voorbeeld van de e-mail op 375 px breed"' in page.text
    assert 'href="/tekst"' in page.text
    for value in ('value=""', 'value="noord"', 'value="centrum"', 'value="west"'):
        assert value in page.text
    email = client.get("/email")
    assert email.status_code == 200
    assert "Beste Voorbeeld Lezer," in email.text
    assert "De Digibanken in de regio" in email.text
    text = client.get("/tekst")
    assert text.headers["content-type"].startswith("text/plain")
    assert "Beste Voorbeeld Lezer," in text.text


def test_subregion_choice_personalizes_the_digibank_block(workspace) -> None:
    settings, draft = workspace
    client = TestClient(create_preview_app(settings, draft))
    page = client.get("/", params={"subregio": "west"})
    assert 'src="/email?subregio=west"' in page.text
    assert '<option value="west" selected>' in page.text
    email = client.get("/email", params={"subregio": "west"})
    assert "Jouw Digibank: Brugge West" in email.text
    # An unknown value falls back to every Digibank rather than failing.
    assert "De Digibanken in de regio" in client.get("/email?subregio=oost").text


def test_rerenders_after_a_draft_change(workspace) -> None:
    settings, draft = workspace
    client = TestClient(create_preview_app(settings, draft))
    first = client.get("/version").json()
    assert first["ok"] is True
    assert client.get("/version").json() == first  # nothing changed: same version
    assert "Waarom dit Digi-weetje?" in client.get("/email").text
    _edit(draft, "## Waarom dit Digi-weetje?", "## Waarom dit nieuwe Digi-weetje?")
    second = client.get("/version").json()
    assert second["version"] != first["version"]
    assert "Waarom dit nieuwe Digi-weetje?" in client.get("/email").text


def test_rerenders_after_a_template_or_projects_change(workspace) -> None:
    settings, draft = workspace
    client = TestClient(create_preview_app(settings, draft))
    assert "€\u00a0250.000" in client.get("/email").text
    _edit(settings.projects_path, "budget_eur: 250000", "budget_eur: 300000")
    assert "€\u00a0300.000" in client.get("/email").text
    # The Jinja environment caches templates: the preview must clear it on change.
    _edit(settings.templates_dir / "email" / "issue.mjml.j2",
          '<h2 id="in-de-kijker">In de kijker</h2>', "<h2>Uitgelicht in deze editie</h2>")
    assert "Uitgelicht in deze editie" in client.get("/email").text


def test_bad_draft_shows_a_dutch_error_page_then_recovers(workspace) -> None:
    settings, draft = workspace
    client = TestClient(create_preview_app(settings, draft))
    assert client.get("/").status_code == 200
    _edit(draft, "featured: [digibanken,", "featured: [digibankjes,")
    page = client.get("/")
    assert page.status_code == 422
    assert "Het voorbeeld kan niet getoond worden" in page.text
    assert (f"{SAMPLE}:6: featured, item 1: onbekend project &#39;digibankjes&#39; "
            "(bedoelde je &#39;digibanken&#39;?)") in page.text
    assert "/version" in page.text  # the error page keeps polling, so a fix shows by itself
    assert client.get("/email").status_code == 422
    assert client.get("/version").json()["ok"] is False
    _edit(draft, "featured: [digibankjes,", "featured: [digibanken,")
    assert client.get("/").status_code == 200


def test_broken_template_shows_an_error_page(workspace) -> None:
    settings, draft = workspace
    client = TestClient(create_preview_app(settings, draft))
    _edit(settings.templates_dir / "email" / "issue.mjml.j2", "{% if featured %}",
          "{% if featured %}{{ nergens.iets }}")
    page = client.get("/")
    assert page.status_code == 422
    assert "nergens" in page.text


def test_preview_never_shows_real_subscriber_links(workspace) -> None:
    settings, draft = workspace
    client = TestClient(create_preview_app(settings, draft))
    email = client.get("/email").text
    assert "uitschrijven?voorbeeld=1" in email
    assert "voorkeuren?voorbeeld=1" in email


def test_real_server_on_loopback(workspace) -> None:
    """The app runs under uvicorn on an ephemeral loopback port, as `digiweetjes preview` does."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    settings, draft = workspace
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_preview_app(settings, draft),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        response = httpx.get(f"http://127.0.0.1:{port}/version", timeout=5)
        assert response.status_code == 200 and response.json()["ok"] is True
        assert "Voorbeeld Lezer" in httpx.get(f"http://127.0.0.1:{port}/email", timeout=5).text
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_cli_preview_of_an_unknown_issue_fails_clearly(settings: Settings, monkeypatch,
                                                       capsys) -> None:
    from digiweetjes.cli import main

    monkeypatch.setenv("DIGIWEETJES_ISSUES_DIR", str(PROJECT_ROOT / "issues"))
    assert main(["preview", "999"]) != 0
    assert "Fout: geen draft '999'" in capsys.readouterr().err


def test_preview_lists_the_check_problems_and_the_b1_warnings(workspace) -> None:
    settings, draft = workspace
    _edit(draft, "## Vragen of ideeën?",
          "## Vragen of ideeën?\n\nKlik [hier](https://e-inclusie.be/).")
    page = TestClient(create_preview_app(settings, draft)).get("/")
    assert page.status_code == 200  # it still renders: the problems are shown beside it
    assert "Nog niet klaar om te versturen: een probleem voor <code>digiweetjes check</code>" \
        in page.text
    line = draft.read_text(encoding="utf-8").splitlines().index(
        "Klik [hier](https://e-inclusie.be/).") + 1
    assert f"{SAMPLE}:{line}: linktekst &#39;hier&#39; zegt niets" in page.text
    assert "Taal (B1):" in page.text and "B1-indicator: " in page.text
    assert "vakjargon &#39;omtrent&#39;" in page.text  # the sample's own word list applies


@pytest.mark.browser
@pytest.mark.parametrize("broken", [False, True])
def test_preview_page_has_no_axe_violations(browser, axe_source: str, workspace,
                                            broken: bool) -> None:
    from tests.browser_support import describe, run_axe

    settings, draft = workspace
    if broken:
        _edit(draft, "featured: [digibanken,", "featured: [digibankjes,")
    else:
        _edit(draft, "## Vragen of ideeën?",
          "## Vragen of ideeën?\n\nKlik [hier](https://e-inclusie.be/).")
    response = TestClient(create_preview_app(settings, draft)).get("/")
    assert response.status_code == (422 if broken else 200)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("http*://**/*", lambda route: route.abort())
    try:
        page = context.new_page()
        page.set_content(response.text, wait_until="load")
        violations = run_axe(page, axe_source, iframes=False)
        assert not violations, "axe found violations in the preview:\n" + describe(violations)
    finally:
        context.close()
