from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from digiweetjes.cli import main
from tests.helpers_content import issues_copy, write_draft


@pytest.fixture
def env(tmp_path, settings, monkeypatch):
    settings = issues_copy(tmp_path, settings)
    monkeypatch.setenv("DIGIWEETJES_ROOT", str(tmp_path))
    monkeypatch.setenv("DIGIWEETJES_ISSUES_DIR", str(settings.issues_dir))
    monkeypatch.setenv("DIGIWEETJES_TEMPLATES_DIR", str(settings.templates_dir))
    return settings


def test_new_scaffolds_a_draft_that_loads(env, capsys):
    assert main(["new", "Nieuws over de Digibanken!", "--date", "2027-03-01"]) == 0
    path = env.issues_dir / "2027-03-01-nieuws-over-de-digibanken.md"
    assert path.exists()
    assert "number: 1" in path.read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert f"Nieuwe draft: {path}" in out
    assert "nummer 1: de eerste editie" in out and "datum 1 maart 2027: zoals gevraagd" in out
    # The untouched scaffold loads but does not pass the gate: both placeholders, with lines.
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:5: de preheader is nog de voorbeeldzin" in err
    assert f"{path}:11: de inleiding is nog de voorbeeldtekst" in err
    assert main(["new", "Nieuws over de Digibanken!", "--date", "2027-03-01"]) == 65
    assert "er bestaat al een draft met deze datum en titel" in capsys.readouterr().err


def test_render_writes_html_and_text(env, tmp_path):
    write_draft(env.issues_dir, "Tekst.\n", number=4)
    out = tmp_path / "out"
    assert main(["render", "4", "--out", str(out)]) == 0
    assert (out / "2027-01-10-test.txt").read_text(encoding="utf-8").startswith("Test\n")
    assert main(["render", "4", "--out", str(out), "--subregion", "noord"]) == 0
    html = (out / "2027-01-10-test-noord.html").read_text(encoding="utf-8")
    assert "Digibank Brugge Noord" in html


def test_check_fails_with_one_line_per_problem(env, capsys):
    path = write_draft(env.issues_dir, "Klik [hier](https://e-inclusie.be/).\n\n#### Diep\n")
    assert main(["check", str(path)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("Fout: ")
    assert len(lines) == 2


def test_bad_draft_gives_file_line_error_no_traceback_and_writes_nothing(env, tmp_path):
    path = write_draft(env.issues_dir, "[x](javascript:alert(1))\n")
    out = tmp_path / "rendered-bad"
    result = subprocess.run(
        [sys.executable, "-m", "digiweetjes", "render", str(path), "--out", str(out)],
        capture_output=True, text=True, env=os.environ.copy(), check=False)
    assert result.returncode == 65
    assert f"{path}:9: tekst: een javascript:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_unknown_issue_is_a_clear_error(env, capsys):
    assert main(["render", "42"]) == 65
    assert "geen draft '42'" in capsys.readouterr().err


def test_package_runs_as_module():
    result = subprocess.run([sys.executable, "-m", "digiweetjes", "--help"],
                            capture_output=True, text=True, check=False,
                            cwd=Path(__file__).parent.parent)
    assert result.returncode == 0 and "render" in result.stdout


def test_drafts_lists_each_draft_and_flags_broken_ones(env, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps cells to 80 columns when not on a tty
    write_draft(env.issues_dir, "Tekst.\n", number=3, slug="goed", title="Goede editie")
    write_draft(env.issues_dir, "[x](javascript:y)\n", number=4, slug="stuk", date="2027-01-11")
    assert main(["drafts"]) == 0
    out = capsys.readouterr().out
    assert "2027-01-10-goed.md" in out and "Goede editie" in out and "10 januari 2027" in out
    assert "2027-01-11-stuk.md" in out and "1 (zie digiweetjes check)" in out


def test_render_writes_one_file_per_subregion_and_says_so(env, tmp_path, capsys):
    write_draft(env.issues_dir, "Tekst.\n", number=4)
    out = tmp_path / "out"
    assert main(["render", "4", "--out", str(out), "--subregion", "alle"]) == 0
    printed = capsys.readouterr().out
    for subregion, digibank in (("noord", "Digibank Brugge Noord"),
                                ("centrum", "Digibank Brugge"),
                                ("west", "Digibank Brugge West")):
        html_path = out / f"2027-01-10-test-{subregion}.html"
        assert digibank in html_path.read_text(encoding="utf-8")
        assert (out / f"2027-01-10-test-{subregion}.txt").exists()
        assert f"Geschreven: {html_path} (" in printed and f"(subregio {subregion})" in printed
    assert not (out / "2027-01-10-test.html").exists()
    assert "Digibank Brugge West" not in (out / "2027-01-10-test-noord.html").read_text(
        encoding="utf-8")


def test_render_shows_the_check_problems_but_still_renders(env, tmp_path, capsys):
    write_draft(env.issues_dir, "Tekst.\n\nKlik [hier](https://e-inclusie.be/).\n", number=4)
    out = tmp_path / "out"
    assert main(["render", "4", "--out", str(out)]) == 0
    assert (out / "2027-01-10-test.html").exists()
    err = capsys.readouterr().err
    assert "Let op: deze editie haalt `digiweetjes check` niet (1 probleem)" in err
    assert "waarschuwing: " in err and ":11: linktekst 'hier' zegt niets" in err


def test_new_numbers_and_dates_after_the_last_issue(env, capsys):
    write_draft(env.issues_dir, "Tekst.\n", number=7, date="2099-05-01", slug="laatste")
    assert main(["new", "Volgende"]) == 0
    out = capsys.readouterr().out
    path = env.issues_dir / "2099-05-02-volgende.md"
    assert path.exists() and "number: 8" in path.read_text(encoding="utf-8")
    assert "nummer 8: één meer dan het hoogste nummer (7, in 2099-05-01-laatste.md)" in out
    assert ("datum 2 mei 2099: de dag na het laatste Digi-weetje (2099-05-01-laatste.md, "
            "1 mei 2099)") in out
    # An explicit date before the last issue, or a number already taken, is refused.
    assert main(["new", "Te vroeg", "--date", "2099-04-30"]) == 65
    assert "datum 2099-04-30 ligt vóór het laatste Digi-weetje" in capsys.readouterr().err
    assert main(["new", "Dubbel", "--date", "2099-06-01", "--number", "7"]) == 65
    err = capsys.readouterr().err
    assert "nummer 7 is al gebruikt in 2099-05-01-laatste.md" in err
    assert not list(env.issues_dir.glob("*te-vroeg*")) and not list(
        env.issues_dir.glob("*dubbel*"))


def test_new_dates_a_first_issue_today(env, capsys):
    from datetime import date

    assert main(["new", "Eerste"]) == 0
    today = date.today().isoformat()
    assert (env.issues_dir / f"{today}-eerste.md").exists()
    assert ": vandaag" in capsys.readouterr().out


def test_unknown_issue_name_suggests_the_closest_draft(env, capsys):
    write_draft(env.issues_dir, "Tekst.\n", number=4, slug="digibanken")
    assert main(["render", "2027-01-10-digibankn"]) == 65
    assert "(bedoelde je '2027-01-10-digibanken'?)" in capsys.readouterr().err


def test_check_warns_about_plain_language_but_passes(env, capsys):
    import shutil

    from digiweetjes.config import PROJECT_ROOT

    shutil.copy(PROJECT_ROOT / "issues" / "b1-woordenlijst.yaml", env.issues_dir)
    long = " ".join(["woord"] * 24)
    path = write_draft(env.issues_dir, f"Kort.\n\nOCMW Brugge is penhouder. {long}.\n\n"
                                       "De arbeidsmarktintegratiebegeleiding start.\n")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert (f"waarschuwing: {path}:11: vakjargon 'penhouder': schrijf liever 'trekker' of "
            "'verantwoordelijke'") in out
    assert f"waarschuwing: {path}:11: lange zin (24 woorden, B1: hoogstens 20)" in out
    assert (f"waarschuwing: {path}:13: lang woord 'arbeidsmarktintegratiebegeleiding' "
            "(33 letters)") in out
    assert ("B1-indicator: 1 van de 4 zinnen (25 %) zonder opmerking; gemiddeld 8 woorden per "
            "zin; 1 lange zin, 1 lang woord, 1 keer vakjargon") in out
    assert ": in orde (HTML" in out
