from __future__ import annotations

from digiweetjes.render.gate import check_issue, inspect_html
from tests.helpers_content import SAMPLE, issues_copy, write_draft


def test_sample_issue_passes_the_gate(settings):
    report = check_issue(SAMPLE, settings)
    assert report.ok, report.problems
    assert 20_000 < report.html_bytes < 102 * 1024


def test_bare_link_texts_are_refused(tmp_path, settings):
    settings = issues_copy(tmp_path, settings)
    path = write_draft(settings.issues_dir, "Lees [hier](https://e-inclusie.be/) en "
                                            "[Lees meer…](https://e-inclusie.be/x).\n")
    report = check_issue(path, settings)
    assert any("link text 'hier' says nothing" in p for p in report.problems)
    assert any("link text 'Lees meer…' says nothing" in p for p in report.problems)


def test_heading_that_skips_a_level_is_refused(tmp_path, settings):
    settings = issues_copy(tmp_path, settings)
    path = write_draft(settings.issues_dir, "## Deel\n\n#### Te diep\n\nTekst.\n")
    problems = check_issue(path, settings).problems
    assert any("heading order skips a level: h2 then h4" in p for p in problems)


def test_oversized_issue_is_refused_for_gmail_clipping(tmp_path, settings):
    settings = issues_copy(tmp_path, settings)
    body = "\n\n".join(f"Alinea {i}: " + "digitale inclusie voor iedereen " * 20
                       for i in range(200))
    problems = check_issue(write_draft(settings.issues_dir, body + "\n"), settings).problems
    assert any("Gmail clips" in p for p in problems)


def test_content_errors_become_one_line_each(tmp_path, settings):
    settings = issues_copy(tmp_path, settings)
    path = write_draft(settings.issues_dir, "[x](javascript:x)\n", featured="onbekend")
    problems = check_issue(path, settings).problems
    assert len(problems) == 2
    assert all(p.startswith(str(path) + ":") for p in problems)


def test_inspect_html_finds_lang_alt_and_link_problems():
    html = ('<html lang="en"><body><h2>Start</h2><img src="https://x/a.png">'
            '<a href="http://x">Onveilig</a><a href="https://x"> </a></body></html>')
    problems = inspect_html(html)
    assert any("no Dutch lang attribute" in p for p in problems)
    assert any("has no alt text" in p for p in problems)
    assert any("first heading is h2" in p for p in problems)
    assert any("'http://x' is not https" in p for p in problems)
    assert any("has no text" in p for p in problems)
    assert inspect_html('<html lang="nl-BE"><h1>T</h1><img src="a" alt="Logo">'
                        '<a href="mailto:a@b.be">Mail ons</a></html>') == []


def test_plain_http_is_allowed_only_to_this_machine():
    """A web app run locally (tests, a demo) has no https; any other http link is refused."""
    def link_problems(href: str) -> list[str]:
        return [p for p in inspect_html(f'<html lang="nl-BE"><h1>T</h1><a href="{href}">'
                                        "Je voorkeuren</a></html>") if "is not https" in p]

    assert link_problems("http://127.0.0.1:8000/uitschrijven/abc") == []
    assert link_problems("http://localhost/voorkeuren/abc") == []
    assert link_problems("http://[::1]:8080/") == []
    for href in ("http://digiweetjes.werkkracht10.be/x", "http://127.0.0.1.example.be/",
                 "http://localhost.evil.be/", "http://[::1"):
        assert link_problems(href), href
