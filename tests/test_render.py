from __future__ import annotations

import itertools
import os
import re

import pytest

import digiweetjes.render.issue as render_module
from digiweetjes.content.projects import load_projects
from digiweetjes.content.source import read_issue
from digiweetjes.render import (
    PLACEHOLDERS,
    RecipientData,
    compile_issue,
    issue_context,
    personalize,
)
from digiweetjes.render.formatting import long_date
from tests.helpers_content import SAMPLE, issues_copy, write_draft

GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "sample-issue.txt")


def recipient(**changes) -> RecipientData:
    values = {"email": "lezer@example.org", "name": "Lezer", "subregion": "west",
              "unsubscribe_url": "https://digiweetjes.example.be/uitschrijven/TOKEN-U",
              "preferences_url": "https://digiweetjes.example.be/voorkeuren/TOKEN-P"}
    values.update(changes)
    return RecipientData(**values)


@pytest.fixture
def compiled(settings):
    return compile_issue(read_issue(settings.issues_dir, SAMPLE), settings)


def test_html_is_dutch_with_title_preheader_and_every_placeholder(compiled):
    source = compiled.html.source
    assert '<html lang="nl-BE"' in source
    assert "<title>Digi-weetje 1: alle projectoproepen e-inclusie op een rij</title>" in source
    assert "Negen projectoproepen, drie Digibanken" in source  # the preheader
    assert compiled.html.names == set(PLACEHOLDERS) == compiled.text.names


def test_personalize_fills_links_greeting_and_digibank(compiled):
    message = personalize(compiled, recipient())
    assert 'href="https://digiweetjes.example.be/uitschrijven/TOKEN-U"' in message.html
    assert "https://digiweetjes.example.be/voorkeuren/TOKEN-P" in message.text
    assert "Beste Lezer," in message.html and "Beste Lezer," in message.text
    assert "Jouw Digibank: Brugge West" in message.html
    assert "Mail Digibank Brugge West" in message.html
    assert "belle.declercq@oostkamp.be" in message.text
    assert "\ue000" not in message.html + message.text


def test_recipient_without_name_or_subregion_gets_generic_parts(compiled):
    message = personalize(compiled, recipient(name=None, subregion=None))
    assert "Beste lezer," in message.html
    assert "De Digibanken in de regio" in message.html
    for address in ("caroline.decorte@blankenberge.be", "isabel.jorion@ocmw-brugge.be",
                    "belle.declercq@oostkamp.be"):
        assert address in message.text


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>", "Jan & Co", "{{ params.x }}", "%recipient.name%",
    "{{var:name}}", "Twee\nregels", "\ue000unsubscribe_url\ue001",
])
def test_hostile_values_arrive_verbatim_and_harmless(compiled, hostile):
    message = personalize(compiled, recipient(name=hostile))
    escaped = hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f"Beste {escaped}," in message.html
    assert f"Beste {hostile}," in message.text  # the text part is plain: verbatim
    assert "<script>" not in message.html


def test_url_values_are_attribute_escaped(compiled):
    url = 'https://x.example/u/a"onmouseover="alert(1)&b=2'
    message = personalize(compiled, recipient(unsubscribe_url=url))
    assert 'href="https://x.example/u/a&quot;onmouseover=&quot;alert(1)&amp;b=2"' in message.html


def test_personalize_never_runs_mjml_or_jinja(compiled, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("rendering must not happen per recipient")

    monkeypatch.setattr(render_module, "mjml2html", forbidden)
    monkeypatch.setattr(render_module, "render_template", forbidden)
    for index in range(3):
        personalize(compiled, recipient(name=f"Lezer {index}"))


def test_budgets_and_dates_in_dutch(compiled):
    text = personalize(compiled, recipient()).text
    # The spaces inside a date or an amount are non-breaking: they never wrap apart.
    for figure in ("€ 50 miljoen", "€ 2,89 miljoen", "€ 250.000", "€ 375 miljoen",
                   "€ 19 miljoen", "5 december 2026", "15 november 2022"):
        assert figure.replace(" ", "\u00a0") in text, figure
    assert "1 oktober 2022" not in text.replace("\u00a0", " ")


def test_every_project_and_threshold_appears_in_both_parts(compiled, settings):
    projects = load_projects(settings.projects_path)
    message = personalize(compiled, recipient())
    for project in projects.projects:
        assert project.name in message.text
        assert project.name.replace("'", "&#39;") in message.html or project.name in message.html
    for threshold in projects.thresholds:
        assert threshold.name in message.text


def test_headings_are_in_order(compiled):
    html = personalize(compiled, recipient()).html
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", html)]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))


def test_new_since_previous_issue_comes_from_the_dates(tmp_path, settings):
    settings = issues_copy(tmp_path, settings)
    write_draft(settings.issues_dir, "Eerste.\n", date="2022-10-20", slug="een", number=1)
    second = write_draft(settings.issues_dir, "Tweede.\n", date="2023-02-01", slug="twee",
                         number=2)
    source = read_issue(settings.issues_dir, second)
    assert source.previous_date.isoformat() == "2022-10-20"
    changes = issue_context(source, settings)["changes"]
    # newest first; "oktober 2022" may lie after 20 oktober, so it is still new
    assert [(p.id, long_date(u.date).replace("\u00a0", " ")) for p, u in changes] == [
        ("digibanken", "2023"), ("digiscan", "15 november 2022"),
        ("subsidie-uitrol-e-inclusiebeleid", "1 november 2022"), ("digibanken", "oktober 2022")]
    write_draft(settings.issues_dir, "Tussendoor.\n", date="2022-11-05", slug="tussen",
                number=2)
    third = write_draft(settings.issues_dir, "Derde.\n", date="2023-02-01", slug="drie",
                        number=3)
    later = issue_context(read_issue(settings.issues_dir, third), settings)["changes"]
    assert [long_date(u.date).replace("\u00a0", " ") for _, u in later] == [
        "2023", "15 november 2022"]
    compiled = compile_issue(source, settings)
    text = compiled.text.source
    contents = text.split("In dit nummer:")[1].split("\n\n")[0].replace("\u00a0", " ")
    # The contents name what is new; the news itself stands once, in its project's place.
    assert "Nieuw sinds het vorige Digi-weetje (20 oktober 2022)" in " ".join(contents.split())
    assert "Digibanken" in contents and "Digiscan" in contents
    assert text.count("De praktische uitwerking van het project start.") == 1
    html = compiled.html.source
    assert 'href="#digibanken"' in html and 'id="digibanken"' in html


def test_the_email_reads_in_order_with_each_project_once(compiled, settings):
    message = personalize(compiled, recipient())
    text = message.text
    order = ["In dit nummer:", "JOUW DIGIBANK", "Waarom", "IN DE KIJKER",
             "ALLE ANDERE PROJECTOPROEPEN", "DREMPELS",
             "Privacyverklaring:"]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions), "the text part follows the HTML's order"
    html = message.html
    html_order = ['href="#digibank"', 'id="digibank"', 'id="in-de-kijker"', 'id="alle-oproepen"',
                  'id="drempels"', settings.postal_address]
    positions = [html.index(marker) for marker in html_order]
    assert positions == sorted(positions)
    # Each project once: its name is a heading or a row, never both.
    for name in ("Digibanken", "Edusprong", "Digisprong"):
        assert html.count(f">{name}<") == 1, name
    # The other calls link to their place on the overview page.
    assert f'href="{settings.base_url}/projectoproepen.html#edusprong"' in html
    assert f'href="{settings.base_url}/privacy"' in html
    assert f'src="{settings.base_url}/logo.png"' in html and 'alt="Digi-weetjes"' in html
    # Dates and amounts never wrap inside.
    assert 'white-space:nowrap">5\u00a0december\u00a02026</span>' in html
    assert "Doelstellingen:" not in html + text  # no label doubling "Er wordt ingezet op:"
    assert "Lees dit Digi-weetje in je browser" in html + text
    assert "Oostkamp, Torhout en Zedelgem" in html


def test_text_part_matches_golden_file(compiled):
    text = personalize(compiled, recipient()).text
    if os.environ.get("DIGIWEETJES_UPDATE_GOLDEN") == "1":
        with open(GOLDEN, "w", encoding="utf-8") as handle:
            handle.write(text)
    with open(GOLDEN, encoding="utf-8") as handle:
        assert text == handle.read(), "set DIGIWEETJES_UPDATE_GOLDEN=1 to accept a change"


def test_web_version_has_no_personal_links(compiled, settings):
    web = compiled.web_version(settings)
    assert "TOKEN" not in web.html
    assert f"{settings.base_url}/uitschrijven\"" in web.html
    assert "Beste lezer," in web.html
