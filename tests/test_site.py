"""The static web archive: pages, feed, projects page, drafts, atomic writes."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from digiweetjes.cli import cli
from digiweetjes.config import PROJECT_ROOT, Settings
from digiweetjes.content import display_path
from digiweetjes.db import Database
from digiweetjes.errors import ContentError, RenderError
from digiweetjes.site import build_site
from tests.release_support import record_sent, sent_in

SAMPLE_ID = "2026-12-05-overzicht-projectoproepen"
ATOM = "{http://www.w3.org/2005/Atom}"
DRAFT = """---
title: "Digi-weetje 2: nieuws over de Digibanken"
number: 2
date: 2027-02-06
preheader: Wat de drie Digibanken deze winter deden.
status: {status}
---
## Nieuws

De Digibanken openden nieuwe {body}.
"""


@pytest.fixture
def issues(tmp_path: Path) -> Path:
    """A private copy of the issues folder, so tests can add and break drafts."""
    folder = tmp_path / "issues"
    shutil.copytree(PROJECT_ROOT / "issues", folder)
    return folder


@pytest.fixture
def site_settings(settings: Settings, issues: Path) -> Settings:
    """The sample issue was sent (the archive publishes sent issues only)."""
    mine = settings.with_(issues_dir=issues)
    sent_in(mine, SAMPLE_ID)
    return mine


def _sent(settings: Settings, issue_id: str = "2027-02-06-digibanken") -> None:
    database = Database(settings.database_url)
    try:
        record_sent(database, issue_id)
    finally:
        database.dispose()


def _add_draft(issues: Path, status: str = "draft", body: str = "digipunten") -> Path:
    path = issues / "2027-02-06-digibanken.md"
    path.write_text(DRAFT.format(status=status, body=body), encoding="utf-8")
    return path


class _Outline(HTMLParser):
    """Collects headings, landmarks, links and the lang attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.headings: list[int] = []
        self.links: list[tuple[str, str]] = []
        self.lang: str | None = None
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "a":
            self._href, self._text = attributes.get("href") or "", []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def _outline(path: Path) -> _Outline:
    parser = _Outline()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_build_writes_the_archive(site_settings: Settings) -> None:
    report = build_site(site_settings)
    site = site_settings.site_dir
    assert report.published == [SAMPLE_ID]
    assert report.index_path == site / "index.html"
    for name in ("index.html", "feed.xml", "projectoproepen.html", "style.css",
                 f"archief/{SAMPLE_ID}.html"):
        assert (site / name).is_file(), name
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "5\u00a0december\u00a02026" in index   # never wraps inside
    assert "Digi-weetje 1: alle projectoproepen e-inclusie op een rij" in index
    assert f'href="archief/{SAMPLE_ID}.html"' in index
    # No half-built folders are left beside site/.
    assert [p.name for p in site.parent.iterdir() if p.name.startswith(".site")] == []


@pytest.mark.parametrize("page", ["index.html", "projectoproepen.html",
                                  f"archief/{SAMPLE_ID}.html"])
def test_pages_are_semantic_and_accessible(site_settings: Settings, page: str) -> None:
    build_site(site_settings)
    outline = _outline(site_settings.site_dir / page)
    assert outline.lang == "nl-BE"
    for landmark in ("header", "nav", "main", "footer"):
        assert landmark in outline.tags, landmark
    assert outline.headings.count(1) == 1 and outline.headings[0] == 1
    # Headings never skip a level going down.
    for before, after in zip(outline.headings, outline.headings[1:], strict=False):
        assert after <= before + 1, outline.headings
    assert outline.links[0] == ("#inhoud", "Naar de inhoud")
    vague = {"hier", "klik hier", "lees meer", "meer", "link"}
    assert not [text for _, text in outline.links if text.lower() in vague]
    assert all(text for _, text in outline.links)


def test_issue_page_has_real_tables_and_no_email_chrome(site_settings: Settings) -> None:
    build_site(site_settings)
    html = (site_settings.site_dir / f"archief/{SAMPLE_ID}.html").read_text(encoding="utf-8")
    assert '<th scope="col">Budget</th>' in html
    assert '<th scope="row">' in html
    assert "Waarom dit Digi-weetje?" in html             # the Markdown body
    assert 'role="presentation"' not in html            # not the email's layout tables
    assert "Beste " not in html                         # no personal greeting
    assert "../style.css" in html


def test_no_personal_links_on_any_page(site_settings: Settings) -> None:
    _add_draft(site_settings.issues_dir, status="draft")
    build_site(site_settings, include_drafts=True)
    for path in site_settings.site_dir.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml"):
            text = path.read_text(encoding="utf-8")
            assert "/uitschrijven" not in text, path
            assert "/voorkeuren" not in text, path
            assert not re.search(r"[?&](t|token)=", text), path
            assert "\ue000" not in text and "\\u{e000}" not in text, path


def test_feed_is_valid_atom_with_the_published_issues(site_settings: Settings) -> None:
    _add_draft(site_settings.issues_dir, status="approved", body="digipunten <& \"co\">")
    _sent(site_settings)
    build_site(site_settings)
    root = ET.parse(site_settings.site_dir / "feed.xml").getroot()
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") == "https://digiweetjes.example.be/"
    assert root.findtext(f"{ATOM}updated") == "2027-02-06T09:00:00+01:00"
    assert root.find(f"{ATOM}author/{ATOM}name").text == "Werkkracht10"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Digi-weetje 2: nieuws over de Digibanken",
        "Digi-weetje 1: alle projectoproepen e-inclusie op een rij"]
    first = entries[0]
    assert first.find(f"{ATOM}link").get("href") == (
        "https://digiweetjes.example.be/archief/2027-02-06-digibanken.html")
    assert first.findtext(f"{ATOM}id") == first.find(f"{ATOM}link").get("href")
    assert first.findtext(f"{ATOM}summary") == "Wat de drie Digibanken deze winter deden."
    assert first.findtext(f"{ATOM}updated") == "2027-02-06T09:00:00+01:00"
    # The body travels as escaped HTML and parses back to what the reader wrote.
    assert 'digipunten &lt;&amp; "co"&gt;' in first.findtext(f"{ATOM}content")


def test_drafts_are_left_out_unless_asked(site_settings: Settings) -> None:
    _add_draft(site_settings.issues_dir, status="draft")
    report = build_site(site_settings)
    site = site_settings.site_dir
    assert report.skipped == [("2027-02-06-digibanken.md", "nog niet verstuurd")]
    assert not (site / "archief/2027-02-06-digibanken.html").exists()
    assert "Digibanken deze winter" not in (site / "index.html").read_text(encoding="utf-8")

    report = build_site(site_settings, include_drafts=True)
    assert report.concepts == ["2027-02-06-digibanken"]
    page = (site / "archief/2027-02-06-digibanken.html").read_text(encoding="utf-8")
    assert "Concept:" in page and 'name="robots" content="noindex"' in page
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.index("Digi-weetje 2:") < index.index("Digi-weetje 1:")  # newest first
    assert "Concept" in index
    # A concept never reaches feed readers.
    assert "2027-02-06-digibanken" not in (site / "feed.xml").read_text(encoding="utf-8")


def test_an_unfinished_draft_does_not_block_publishing(site_settings: Settings) -> None:
    path = site_settings.issues_dir / "2027-02-06-digibanken.md"
    path.write_text("---\ntitle: [half\nstatus: draft\n---\n", encoding="utf-8")
    assert build_site(site_settings).published == [SAMPLE_ID]  # not sent: not even read
    path.write_text(DRAFT.format(status="draft", body="").replace("number: 2", "number: x"),
                    encoding="utf-8")
    assert build_site(site_settings).published == [SAMPLE_ID]


def test_a_bad_draft_leaves_the_old_site_intact(site_settings: Settings) -> None:
    build_site(site_settings)
    site = site_settings.site_dir
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    (site / "extra.txt").write_text("van de vorige build", encoding="utf-8")
    _add_draft(site_settings.issues_dir, status="approved",
               body="[link](javascript:alert(1)) digipunten")
    _sent(site_settings)
    with pytest.raises(ContentError) as caught:
        build_site(site_settings)
    assert "2027-02-06-digibanken.md" in str(caught.value)
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after.pop(Path("extra.txt")) == b"van de vorige build"
    assert after == before
    assert [p.name for p in site.parent.iterdir() if p.name.startswith(".site")] == []


def test_a_successful_build_replaces_the_old_site(site_settings: Settings) -> None:
    build_site(site_settings)
    (site_settings.site_dir / "archief" / "weg.html").write_text("oud", encoding="utf-8")
    build_site(site_settings)
    assert not (site_settings.site_dir / "archief" / "weg.html").exists()


def test_projects_page_is_the_seed_regenerated(site_settings: Settings) -> None:
    build_site(site_settings)
    html = (site_settings.site_dir / "projectoproepen.html").read_text(encoding="utf-8")
    names = ["Digibanken", "Lokale Besturen-Iedereen digitaal",
             "e-inclusion 4 Belgium - OCMW 2022 (Digiscan)", "Subsidie uitrol e-inclusiebeleid",
             "Gemeente zonder gemeentehuis", "City Deal &#39;E-inclusion by Design&#39;",
             "Edusprong", "Iedereen Digitaal", "Digisprong"]
    for name in names:
        assert f">{name}</h3>" in html, name
    assert html.count('<article class="project"') == 9
    for budget in ("€ 50 miljoen", "€ 2,89 miljoen", "€ 250.000", "€ 375 miljoen",
                   "€ 19 miljoen</td>", "€ 6 miljoen"):
        assert budget.replace(" ", "\u00a0") in html, budget
    assert "verdeeld volgens trekkingsrechten" in html
    for label in ("Werkkracht10 is betrokken bij", "Werkkracht10 houdt voeling met",
                  "Werkkracht10 houdt de vinger aan de pols bij"):
        assert label in html
    assert "minister Jo Brouns" in html and "minister Karine Lalieux" in html
    for email in ("caroline.decorte@blankenberge.be", "isabel.jorion@ocmw-brugge.be",
                  "belle.declercq@oostkamp.be"):
        assert f'href="mailto:{email}"' in html
    assert "Blankenberge, Damme, Knokke-Heist, Zuienkerke" in html
    assert "Beernem, Jabbeke, Oostkamp, Torhout, Zedelgem" in html
    assert ('<a class="button" href="https://digiweetjes.example.be/inschrijven">'
            "INSCHRIJVEN Digi-weetjes</a>") in html
    for threshold in ("Digitale toegang", "Digitale competenties", "Netwerk en ondersteuning",
                      "Toegankelijk digitaal design"):
        assert f">{threshold}</h3>" in html
    assert 'href="https://e-inclusie.be/"' in html
    assert "De rol van Werkkracht10" in html and "midden 2021" in html
    assert "Concreet voor de regio" in html and "OCMW Brugge is penhouder" in html


def test_projects_page_follows_projects_yaml(site_settings: Settings) -> None:
    data = site_settings.projects_path
    data.write_text(data.read_text(encoding="utf-8").replace(
        "budget_eur: 250000", "budget_eur: 300000"), encoding="utf-8")
    build_site(site_settings)
    html = (site_settings.site_dir / "projectoproepen.html").read_text(encoding="utf-8")
    assert "€\u00a0300.000" in html and "€\u00a0250.000" not in html


def test_cli_build_reports_where_to_look(site_settings: Settings, monkeypatch) -> None:
    _add_draft(site_settings.issues_dir, status="draft")
    monkeypatch.setenv("DIGIWEETJES_ROOT", str(site_settings.root))
    monkeypatch.setenv("DIGIWEETJES_ISSUES_DIR", str(site_settings.issues_dir))
    monkeypatch.setenv("DIGIWEETJES_SITE_DIR", str(site_settings.site_dir))
    monkeypatch.setenv("DIGIWEETJES_TEMPLATES_DIR", str(site_settings.templates_dir))
    monkeypatch.setenv("DIGIWEETJES_DATABASE_URL", site_settings.database_url)
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 0, result.output
    assert str(site_settings.site_dir / "index.html") in result.output
    assert "gepubliceerde edities: 1" in result.output
    assert "overgeslagen: 2027-02-06-digibanken.md: nog niet verstuurd" in result.output
    result = CliRunner().invoke(cli, ["build", "--drafts"])
    assert "concepten (--drafts): 1" in result.output


def test_build_publishes_nothing_when_an_issue_fails_the_gate(site_settings: Settings,
                                                              monkeypatch, capsys) -> None:
    from digiweetjes.cli import main

    for name, value in (("ROOT", str(site_settings.root)),
                        ("ISSUES_DIR", str(site_settings.issues_dir)),
                        ("SITE_DIR", str(site_settings.site_dir)),
                        ("TEMPLATES_DIR", str(site_settings.templates_dir)),
                        ("DATABASE_URL", site_settings.database_url)):
        monkeypatch.setenv(f"DIGIWEETJES_{name}", value)
    assert main(["build"]) == 0
    site = site_settings.site_dir
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    draft = _add_draft(site_settings.issues_dir,
                       body="Digibanken: [klik hier](https://e-inclusie.be/)")
    capsys.readouterr()
    assert main(["build", "--drafts"]) == 1
    err = capsys.readouterr().err
    assert "niets gepubliceerd: 1 editie haalt `digiweetjes check` niet" in err
    assert f"{display_path(draft)}:10: linktekst 'klik hier' zegt niets" in err
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before  # site/ unchanged, byte for byte
    _add_draft(site_settings.issues_dir)  # fixed: the build goes through
    assert main(["build", "--drafts"]) == 0
    assert (site / "nummers" / "2027-02-06-digibanken.html").exists() or any(
        "2027-02-06-digibanken" in str(p) for p in site.rglob("*.html"))


def test_a_failing_write_leaves_the_old_site_intact(site_settings: Settings,
                                                    monkeypatch) -> None:
    build_site(site_settings)
    site = site_settings.site_dir
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    real_write = Path.write_text
    calls = []

    def failing_write(self: Path, *args, **kwargs):
        calls.append(self)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing_write)
    with pytest.raises(RenderError, match="No space left"):
        build_site(site_settings)
    monkeypatch.undo()
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in site.parent.iterdir() if p.name.startswith(".site")] == []


def test_the_archive_writes_its_pages_where_the_links_point(site_settings: Settings) -> None:
    from digiweetjes.links import projects_url, web_url

    build_site(site_settings)
    base = site_settings.base_url + "/"
    for url in (web_url(site_settings, SAMPLE_ID), projects_url(site_settings)):
        assert url.startswith(base)
        assert (site_settings.site_dir / url.removeprefix(base)).is_file(), url


def test_only_sent_issues_are_published_from_what_was_stored(site_settings: Settings) -> None:
    _add_draft(site_settings.issues_dir, status="approved")
    report = build_site(site_settings)
    assert report.published == [SAMPLE_ID]   # approved in its front matter, but not sent
    assert report.skipped == [("2027-02-06-digibanken.md", "nog niet verstuurd")]
    database = Database(site_settings.database_url)
    try:
        record_sent(database, "2027-02-06-digibanken", web_html="<p>zoals verstuurd</p>")
    finally:
        database.dispose()
    assert build_site(site_settings).published == ["2027-02-06-digibanken", SAMPLE_ID]
    page = site_settings.site_dir / "archief" / "2027-02-06-digibanken.html"
    assert page.read_text(encoding="utf-8") == "<p>zoals verstuurd</p>"


def test_the_build_needs_a_database_that_knows_what_was_sent(settings: Settings,
                                                             issues: Path) -> None:
    from digiweetjes.errors import SchemaOutdatedError

    with pytest.raises(SchemaOutdatedError, match="digiweetjes init"):
        build_site(settings.with_(issues_dir=issues))
    assert not settings.site_dir.exists()
