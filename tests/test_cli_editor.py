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
    assert main(["check", str(path)]) == 0
    assert main(["new", "Nieuws over de Digibanken!", "--date", "2027-03-01"]) == 65
    assert "exists already" in capsys.readouterr().err


def test_render_writes_html_and_text(env, tmp_path):
    write_draft(env.issues_dir, "Tekst.\n", number=4)
    out = tmp_path / "out"
    assert main(["render", "4", "--out", str(out), "--subregion", "noord"]) == 0
    html = (out / "2027-01-10-test.html").read_text(encoding="utf-8")
    assert "Digibank Brugge Noord" in html
    assert (out / "2027-01-10-test.txt").read_text(encoding="utf-8").startswith("Test\n")


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
    assert f"{path}:9: body: a javascript:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_unknown_issue_is_a_clear_error(env, capsys):
    assert main(["render", "42"]) == 65
    assert "no draft '42'" in capsys.readouterr().err


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
    assert "2027-01-11-stuk.md" in out and "1 (run check)" in out
