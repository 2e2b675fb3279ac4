from __future__ import annotations

import pytest

from digiweetjes.content.drafts import load_draft
from digiweetjes.content.projects import load_projects
from digiweetjes.content.source import resolve_draft
from digiweetjes.errors import ContentError, ContentErrors
from tests.helpers_content import SAMPLE, issues_copy, write_draft


@pytest.fixture
def projects(settings):
    return load_projects(settings.projects_path)


@pytest.fixture
def issues(tmp_path, settings):
    return issues_copy(tmp_path, settings).issues_dir


def _error(path, projects) -> str:
    with pytest.raises(ContentError) as caught:
        load_draft(path, projects)
    return str(caught.value)


def test_sample_issue_loads_with_its_front_matter(projects):
    draft = load_draft(SAMPLE, projects)
    assert draft.meta.number == 1
    assert draft.meta.featured == ("digibanken", "digiscan", "lokale-besturen-iedereen-digitaal")
    assert draft.issue_id == "2026-12-05-overzicht-projectoproepen"
    assert draft.send_at.isoformat() == "2026-12-05T09:00:00+01:00"
    assert draft.body.headings[0] == (2, "Waarom dit Digi-weetje?")
    assert ("https://e-inclusie.be/", "e-inclusie.be") \
        in draft.body.links


def test_unknown_project_id_names_file_line_and_field(issues, projects):
    path = write_draft(issues, "Tekst.\n", featured="digibanken, digibrug")
    message = _error(path, projects)
    assert message.startswith(f"{path}:6: featured, item 2: onbekend project 'digibrug'")


def test_bad_yaml_in_front_matter_has_its_file_line(issues, projects):
    front = '---\ntitle: "Test\nnumber: 2\n---\n'
    path = write_draft(issues, "Tekst.\n", front=front)
    message = _error(path, projects)
    assert "ongeldige YAML" in message and str(path) in message


def test_missing_title_is_reported(issues, projects):
    front = "---\nnumber: 2\ndate: 2027-01-10\npreheader: x\n---\n"
    message = _error(write_draft(issues, "Tekst.\n", front=front), projects)
    assert ": title: ontbreekt: dit veld is verplicht" in message


def test_line_break_in_title_is_refused(issues, projects):
    front = ('---\ntitle: "Regel een\\r\\nBcc: x@y.z"\nnumber: 2\ndate: 2027-01-10\n'
             'preheader: x\n---\n')
    message = _error(write_draft(issues, "Tekst.\n", front=front), projects)
    assert ":2: title: moet op één regel staan" in message


@pytest.mark.parametrize(("body", "line", "fragment"), [
    ("Intro.\n\nZie [dit](javascript:alert(1)).\n", 11, "javascript:"),
    ("Intro.\n\n![](https://example.org/a.png)\n", 11, "heeft een beschrijving nodig"),
    ("Intro.\n\n<script>alert(1)</script>\n", 11, "HTML '<script' is niet toegelaten"),
    ("Intro.\n\n[relatief](/archief)\n", 11, "alleen https://- en mailto:-links"),
    ("Intro.\n\n[onveilig](http://example.org)\n", 11, "alleen https://- en mailto:-links"),
    ("Intro.\n\n![Logo](http://example.org/a.png)\n", 11,
     "een afbeelding moet een https://-adres hebben"),
    ("Intro.\n\n<p onclick=\"steal()\">x</p>\n", 11, "onclick="),
    ("# Titel\n", 9, "gebruik '##'"),
])
def test_unsafe_or_inaccessible_body_is_refused_at_its_line(issues, projects, body, line,
                                                            fragment):
    path = write_draft(issues, body)
    message = _error(path, projects)
    assert f"{path}:{line}: tekst: " in message
    assert fragment in message


def test_all_problems_are_reported_at_once(issues, projects):
    path = write_draft(issues, "[a](javascript:x)\n\n![](https://e.org/x.png)\n",
                       featured="bestaat-niet")
    with pytest.raises(ContentErrors) as caught:
        load_draft(path, projects)
    assert len(caught.value.errors) == 3


def test_raw_html_is_sanitised_not_passed_through(issues, projects):
    body = 'Een <abbr title="Openbaar Centrum voor Maatschappelijk Welzijn">OCMW</abbr> en ' \
           '<span style="color:red" class="x">rood</span>.\n'
    draft = load_draft(write_draft(issues, body), projects)
    assert '<abbr title="Openbaar Centrum voor Maatschappelijk Welzijn">OCMW</abbr>' \
        in draft.body.html
    assert "span" not in draft.body.html and "color:red" not in draft.body.html


def test_forged_placeholder_markers_are_stripped(issues, projects):
    draft = load_draft(write_draft(issues, "Hallo \ue000unsubscribe_url\ue001 "
                                           "en \\u{e000}greeting\\u{e001}.\n"), projects)
    assert "\ue000" not in draft.body.html and "u{e000}" not in draft.body.html


def test_date_must_match_file_name(issues, projects):
    front = ('---\ntitle: T\nnumber: 2\ndate: 2027-02-01\npreheader: x\n---\n')
    assert "datum 2027-02-01 verschilt" in _error(write_draft(issues, "x\n", front=front), projects)


def test_file_name_pattern_is_enforced(issues, projects):
    path = issues / "Mijn Nieuwsbrief.md"
    path.write_text("---\ntitle: T\n---\nx\n", encoding="utf-8")
    assert "de bestandsnaam moet JJJJ-MM-DD-titel.md zijn" in _error(path, projects)


def test_resolve_by_number_file_name_and_stem(settings):
    assert resolve_draft(settings.issues_dir, "1") == SAMPLE
    assert resolve_draft(settings.issues_dir, SAMPLE.name) == SAMPLE
    assert resolve_draft(settings.issues_dir, SAMPLE.stem) == SAMPLE
    with pytest.raises(ContentError, match="geen draft '99'"):
        resolve_draft(settings.issues_dir, "99")
