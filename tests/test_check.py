from __future__ import annotations

from digiweetjes.render.gate import check_issue, inspect_html
from tests.helpers_content import SAMPLE, issues_copy, write_draft


def test_sample_issue_passes_the_gate(settings):
    report = check_issue(SAMPLE, settings)
    assert report.ok, report.problems
    assert 20_000 < report.html_bytes < 102 * 1024


def test_bare_link_texts_are_refused(tmp_path, settings):
    settings = issues_copy(tmp_path, settings)
    path = write_draft(settings.issues_dir, "Lees [hier](https://e-inclusie.be/) en\n"
                                            "[Lees meer…](https://e-inclusie.be/x).\n")
    report = check_issue(path, settings)
    # Each at its line in the draft (the body starts on line 9).
    assert any(p.startswith(f"{path}:9: linktekst 'hier' zegt niets") for p in report.problems)
    assert any(p.startswith(f"{path}:10: linktekst 'Lees meer…' zegt niets")
               for p in report.problems), report.problems


def test_heading_that_skips_a_level_is_refused(tmp_path, settings):
    settings = issues_copy(tmp_path, settings)
    path = write_draft(settings.issues_dir, "## Deel\n\n#### Te diep\n\nTekst.\n")
    problems = check_issue(path, settings).problems
    assert f"{path}:11: de titels slaan een niveau over: h2 en dan h4 ('Te diep'): gebruik ###" \
        in problems


def test_oversized_issue_is_refused_for_gmail_clipping(tmp_path, settings):
    settings = issues_copy(tmp_path, settings)
    body = "\n\n".join(f"Alinea {i}: " + "digitale inclusie voor iedereen " * 20
                       for i in range(200))
    problems = check_issue(write_draft(settings.issues_dir, body + "\n"), settings).problems
    assert any("Gmail knipt berichten boven 102 KB af" in p for p in problems)


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
    assert any("geen Nederlandstalig lang-attribuut" in p for p in problems)
    assert any("heeft geen beschrijving (alt-tekst)" in p for p in problems)
    assert any("de eerste titel is h2" in p for p in problems)
    assert any("'http://x' is geen https://" in p for p in problems)
    assert any("heeft geen tekst" in p for p in problems)
    assert inspect_html('<html lang="nl-BE"><h1>T</h1><img src="a" alt="Logo">'
                        '<a href="mailto:a@b.be">Mail ons</a></html>') == []


def test_plain_http_is_allowed_only_to_this_machine():
    """A web app run locally (tests, a demo) has no https; any other http link is refused."""
    def link_problems(href: str) -> list[str]:
        return [p for p in inspect_html(f'<html lang="nl-BE"><h1>T</h1><a href="{href}">'
                                        "Je voorkeuren</a></html>") if "is geen https://" in p]

    assert link_problems("http://127.0.0.1:8000/uitschrijven/abc") == []
    assert link_problems("http://localhost/voorkeuren/abc") == []
    assert link_problems("http://[::1]:8080/") == []
    for href in ("http://digiweetjes.werkkracht10.be/x", "http://127.0.0.1.example.be/",
                 "http://localhost.evil.be/", "http://[::1"):
        assert link_problems(href), href


def test_a_problem_from_a_template_says_it_is_not_in_the_draft(tmp_path, settings):
    """The sample's own links are fine; a template link with a bare text is named as such."""
    import shutil

    from digiweetjes.config import PROJECT_ROOT

    templates = tmp_path / "templates"
    shutil.copytree(PROJECT_ROOT / "templates", templates)
    mjml = templates / "email" / "issue.mjml.j2"
    text = mjml.read_text(encoding="utf-8")
    marker = '<h2 id="in-de-kijker">In de kijker</h2>'
    assert marker in text
    link = "<a href=\"https://e-inclusie.be/\">klik hier</a>"
    mjml.write_text(text.replace(marker, marker + link),
                    encoding="utf-8")
    problems = check_issue(SAMPLE, settings.with_(templates_dir=templates)).problems
    assert len(problems) == 1
    assert "linktekst 'klik hier' zegt niets" in problems[0]
    assert problems[0].endswith("(niet in de draft: in projects.yaml of een template)")


def test_the_untouched_scaffold_is_refused_at_its_lines(tmp_path, settings):
    from datetime import date

    from digiweetjes.content.drafts import scaffold

    settings = issues_copy(tmp_path, settings)
    path = settings.issues_dir / "2027-02-01-nieuw.md"
    path.write_text(scaffold("Nieuw", 3, date(2027, 2, 1)), encoding="utf-8")
    problems = check_issue(path, settings).problems
    assert problems == [
        f"{path}:5: de preheader is nog de voorbeeldzin van `digiweetjes new`: schrijf één zin "
        "die de lezer in de inbox naast de titel ziet",
        f"{path}:11: de inleiding is nog de voorbeeldtekst van `digiweetjes new`: schrijf je "
        "eigen inleiding"]
    assert "dit Digi-weetje" in path.read_text(encoding="utf-8")  # weetje is a het-word
    written = path.read_text(encoding="utf-8")
    path.write_text(written.replace("Eén zin die in de inbox naast de titel verschijnt.",
                                    "Nieuws over de Digibanken.")
                    .replace("Schrijf hier de inleiding van dit Digi-weetje.",
                             "De Digibanken openen hun deuren."), encoding="utf-8")
    assert check_issue(path, settings).ok


def test_an_unknown_featured_project_suggests_the_closest_one(tmp_path, settings):
    settings = issues_copy(tmp_path, settings)
    path = write_draft(settings.issues_dir, "Tekst.\n", featured="digibanken, digiscna")
    problems = check_issue(path, settings).problems
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:6: featured, item 2: onbekend project 'digiscna' "
                                  "(bedoelde je 'digiscan'?) (bekende projecten: ")


def test_build_gate_lists_every_failing_issue(tmp_path, settings):
    import pytest

    from digiweetjes.content.source import read_issue
    from digiweetjes.errors import CheckFailed
    from digiweetjes.render import compile_issue
    from digiweetjes.render.gate import refuse_failing

    settings = issues_copy(tmp_path, settings)
    good = write_draft(settings.issues_dir, "Tekst.\n", number=2, slug="goed")
    bad = write_draft(settings.issues_dir, "Tekst.\n\nKlik [hier](https://e-inclusie.be/).\n",
                      number=3, slug="slecht", date="2027-01-11")
    pairs = [(source, compile_issue(source, settings))
             for source in (read_issue(settings.issues_dir, p) for p in (good, bad))]
    refuse_failing(pairs[:1])  # passes: nothing raised
    with pytest.raises(CheckFailed) as failed:
        refuse_failing(pairs)
    assert failed.value.problems[0] == "niets gepubliceerd: 1 editie haalt `digiweetjes check` niet"
    assert failed.value.problems[1].startswith(f"{bad}:11: linktekst 'hier'")
