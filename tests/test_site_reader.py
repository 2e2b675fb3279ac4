"""What a reader expects of the archive: previous/next issue, Open Graph, favicon, privacy link."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from digiweetjes.config import PROJECT_ROOT, Settings
from digiweetjes.content.source import read_issue
from digiweetjes.db import Database
from digiweetjes.render.issue import compile_issue
from digiweetjes.site import build_site
from digiweetjes.site.archive import render_issue_page
from tests.release_support import record_sent, sent_in

FIRST = "2026-12-05-overzicht-projectoproepen"
DRAFT = """---
title: "Digi-weetje {number}: nieuws"
number: {number}
date: {date}
preheader: Wat er nieuw is in nummer {number}.
status: approved
send_at: {date} 09:00
---
## Nieuws

Kort nieuws over de Digibanken.
"""
LATER = (("2027-02-06-nieuws", 2, "2027-02-06"), ("2027-03-06-nieuws", 3, "2027-03-06"))


@pytest.fixture
def archive(settings: Settings, tmp_path: Path) -> tuple[Settings, Path]:
    """Three sent issues; the middle one's page was stored when it was sent."""
    issues = tmp_path / "issues"
    shutil.copytree(PROJECT_ROOT / "issues", issues)
    for issue_id, number, day in LATER:
        (issues / f"{issue_id}.md").write_text(DRAFT.format(number=number, date=day),
                                               encoding="utf-8")
    mine = settings.with_(issues_dir=issues)
    sent_in(mine, FIRST, LATER[1][0])
    stored = render_issue_page(read_issue(issues, issues / f"{LATER[0][0]}.md"), mine)
    database = Database(mine.database_url)
    try:
        record_sent(database, LATER[0][0], web_html=stored)
    finally:
        database.dispose()
    build_site(mine)
    return mine, mine.site_dir


def _nav(site: Path, issue_id: str) -> tuple[list[str], list[str]]:
    page = (site / "archief" / f"{issue_id}.html").read_text(encoding="utf-8")
    previous = re.findall(r'href="\.\./archief/([^"]+)\.html" rel="prev"', page)
    following = re.findall(r'href="\.\./archief/([^"]+)\.html" rel="next"', page)
    return previous, following


def test_issues_link_to_their_neighbours(archive) -> None:
    _, site = archive
    assert _nav(site, FIRST) == ([], [LATER[0][0]])              # the first: only "next"
    assert _nav(site, LATER[0][0]) == ([FIRST], [LATER[1][0]])   # a stored page gets both
    assert _nav(site, LATER[1][0]) == ([LATER[0][0]], [])        # the last: only "previous"
    page = (site / "archief" / f"{LATER[1][0]}.html").read_text(encoding="utf-8")
    assert "Vorig Digi-weetje" in page and "Volgend Digi-weetje" not in page
    assert "<!-- issue-nav -->" not in page


def test_a_single_issue_has_no_navigation(settings: Settings, tmp_path: Path) -> None:
    issues = tmp_path / "issues"
    shutil.copytree(PROJECT_ROOT / "issues", issues)
    mine = settings.with_(issues_dir=issues)
    sent_in(mine, FIRST)
    build_site(mine)
    page = (mine.site_dir / "archief" / f"{FIRST}.html").read_text(encoding="utf-8")
    assert 'class="issue-nav"' not in page and "<!-- issue-nav -->" not in page


def _meta(page: str, prop: str) -> str:
    found = re.findall(rf'<meta property="{prop}" content="([^"]*)">', page)
    assert len(found) == 1, f"{prop}: {found}"
    return found[0]


def test_pages_carry_open_graph_tags(archive) -> None:
    settings, site = archive
    page = (site / "archief" / f"{FIRST}.html").read_text(encoding="utf-8")
    compiled = compile_issue(read_issue(settings.issues_dir,
                                        settings.issues_dir / f"{FIRST}.md"), settings)
    assert _meta(page, "og:title") == compiled.title
    assert _meta(page, "og:description") == compiled.preheader
    assert _meta(page, "og:url") == compiled.web_url
    assert _meta(page, "og:type") == "article"
    assert _meta(page, "og:locale") == "nl_BE"
    assert _meta(page, "og:image") == f"{settings.base_url}/logo.png"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert _meta(index, "og:type") == "website"
    assert _meta(index, "og:url") == f"{settings.base_url}/"
    projects = (site / "projectoproepen.html").read_text(encoding="utf-8")
    assert _meta(projects, "og:url") == f"{settings.base_url}/projectoproepen.html"


PAGES = ("index.html", "projectoproepen.html", f"archief/{FIRST}.html",
         f"archief/{LATER[0][0]}.html")


def test_every_page_links_the_favicon_and_the_privacy_notice(archive) -> None:
    settings, site = archive
    for name in PAGES:
        page = (site / name).read_text(encoding="utf-8")
        root = "../" if name.startswith("archief/") else ""
        assert f'<link rel="icon" href="{root}favicon.svg" type="image/svg+xml">' in page, name
        assert f'<link rel="icon" href="{root}favicon.png"' in page, name
        footer = page.split('<footer class="site-footer">')[1]
        assert f'href="{settings.base_url}/privacy"' in footer, name
        assert 'class="signup-box"' in page, name  # the sign-up form on every page


def test_the_images_are_in_the_site_as_they_were_made(archive) -> None:
    _, site = archive
    assets = PROJECT_ROOT / "templates" / "web" / "assets"
    for name in ("logo.png", "favicon.png", "apple-touch-icon.png"):
        data = (site / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert data == (assets / name).read_bytes()
    assert (site / "favicon.svg").read_text(encoding="utf-8").startswith("<svg")
