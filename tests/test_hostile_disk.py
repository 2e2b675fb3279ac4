"""Hostile disks: a full disk, /dev/full, a missing or wrong output path. Every file the CLI
writes is written whole or not at all: one clear line, a non-zero exit, no 0-byte or temporary
leftovers, and the previous output untouched."""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

import pytest

from digiweetjes.config import PROJECT_ROOT
from tests.hostile_support import base_env, run, snapshot, use_env

NOTHING_WRITTEN = "er is niets geschreven (maak plaats vrij of kies een andere plek)"
FULL = f"de schijf is vol; {NOTHING_WRITTEN}"
DRAFT = PROJECT_ROOT / "issues" / "2026-12-05-overzicht-projectoproepen.md"


def _full_disk(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _dev_full_is_intact() -> bool:
    return stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """An initialised project with one subscriber, its own issues folder and an earlier output."""
    issues = tmp_path / "issues"
    issues.mkdir()
    shutil.copy(PROJECT_ROOT / "issues" / "projects.yaml", issues)
    shutil.copy(DRAFT, issues)
    use_env(monkeypatch, base_env(tmp_path, DIGIWEETJES_ISSUES_DIR=str(issues)))
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "init").code == 0
    assert run(capsys, "subscribers", "add", "jan@example.org", "--name", "Jan",
                "--consent-source", "formulier").code == 0
    assert run(capsys, "build").code == 0
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "list.csv").write_text("earlier export\n", encoding="utf-8")
    (tmp_path / "out" / "jan.json").write_text("{}\n", encoding="utf-8")
    return tmp_path


# (command, message); {root} is the project folder. The disk is made full for the command.
FULL_DISK_CASES = [
    pytest.param(("subscribers", "export", "out/list.csv"),
                 f"kan out/list.csv niet schrijven: {FULL}", id="export-over-earlier"),
    pytest.param(("subscribers", "export", "out/new.csv"),
                 f"kan out/new.csv niet schrijven: {FULL}", id="export-new-file"),
    pytest.param(("subscribers", "export-person", "jan@example.org", "-o", "out/jan.json"),
                 f"kan out/jan.json niet schrijven: {FULL}", id="export-person"),
    pytest.param(("render", "1", "--out", "out"),
                 f"kan out/2026-12-05-overzicht-projectoproepen.html niet schrijven: {FULL}",
                 id="render"),
    pytest.param(("new", "Volgende editie", "--date", "2027-01-01"),
                 f"kan {{root}}/issues/2027-01-01-volgende-editie.md niet schrijven: {FULL}",
                 id="new-draft"),
]


@pytest.mark.parametrize(("command", "message"), FULL_DISK_CASES)
def test_a_full_disk_leaves_the_earlier_output_and_no_partial_file(
        project: Path, monkeypatch: pytest.MonkeyPatch, capsys, command: tuple[str, ...],
        message: str) -> None:
    before = snapshot(project)
    monkeypatch.setattr(os, "fsync", _full_disk)
    run(capsys, *command).assert_clean_error(73, message.format(root=project))
    assert snapshot(project) == before  # no 0-byte file, no temporary file, nothing replaced


def test_a_full_disk_during_build_keeps_the_earlier_site(project: Path, monkeypatch, capsys):
    before = snapshot(project)
    monkeypatch.setattr(Path, "write_text", _full_disk)
    run(capsys, "build").assert_clean_error(
        1, f"cannot write the site to {project / 'site'}: [Errno 28] No space left on device")
    assert snapshot(project) == before


@pytest.mark.parametrize(("command", "code", "message"), [
    pytest.param(("subscribers", "export", "/dev/full"), 73,
                 f"kan /dev/full niet schrijven: {FULL}", id="export"),
    pytest.param(("subscribers", "export-person", "jan@example.org", "-o", "/dev/full"), 73,
                 f"kan /dev/full niet schrijven: {FULL}", id="export-person"),
])
def test_dev_full_is_written_to_and_reported_never_replaced(
        project: Path, capsys, command: tuple[str, ...], code: int, message: str) -> None:
    before = snapshot(project)
    run(capsys, *command).assert_clean_error(code, message)
    assert _dev_full_is_intact()
    assert snapshot(project) == before


@pytest.mark.parametrize(("variable_or_command", "message"), [
    pytest.param({"DIGIWEETJES_SITE_DIR": "/dev/full"},
                 "/dev/full is geen map: kies met DIGIWEETJES_SITE_DIR een map voor de website",
                 id="site-dir-is-a-device"),
    pytest.param({"DIGIWEETJES_SITE_DIR": "{root}/issues"},
                 "{root}/issues is niet leeg en bevat geen eerder gebouwde website (geen "
                 "index.html): build vervangt die map helemaal; kies met DIGIWEETJES_SITE_DIR "
                 "een lege of eigen map", id="site-dir-is-the-issues-folder"),
    pytest.param({"DIGIWEETJES_SITE_DIR": "{root}"},
                 "{root} is niet leeg en bevat geen eerder gebouwde website (geen index.html): "
                 "build vervangt die map helemaal; kies met DIGIWEETJES_SITE_DIR een lege of "
                 "eigen map", id="site-dir-is-the-project"),
])
def test_build_never_swaps_out_what_is_not_a_site(
        project: Path, monkeypatch, capsys, variable_or_command: dict[str, str],
        message: str) -> None:
    for name, value in variable_or_command.items():
        monkeypatch.setenv(name, value.format(root=project))
    before = snapshot(project)
    run(capsys, "build").assert_clean_error(1, message.format(root=project))
    assert _dev_full_is_intact()
    assert snapshot(project) == before


@pytest.mark.parametrize(("command", "message"), [
    pytest.param(("subscribers", "export", "missing/list.csv"),
                 "kan missing/list.csv niet schrijven: het bestand of de map bestaat niet; "
                 f"{NOTHING_WRITTEN}", id="export-missing-folder"),
    pytest.param(("subscribers", "export-person", "jan@example.org", "-o", "out/list.csv/x"),
                 "kan out/list.csv/x niet schrijven: een deel van het pad is geen map; "
                 f"{NOTHING_WRITTEN}", id="export-person-under-a-file"),
])
def test_an_impossible_output_path_is_one_line(project: Path, capsys, command: tuple[str, ...],
                                               message: str) -> None:
    before = snapshot(project)
    run(capsys, *command).assert_clean_error(73, message)
    assert snapshot(project) == before


def test_render_into_a_device_is_refused(project: Path, capsys) -> None:
    before = snapshot(project)
    run(capsys, "render", "1", "--out", "/dev/full").assert_clean_error(
        73, "/dev/full is geen map: kies met --out een map voor de bestanden")
    assert _dev_full_is_intact() and snapshot(project) == before


def test_render_into_a_regular_file_is_refused_by_the_option(project: Path, capsys) -> None:
    before = snapshot(project)
    outcome = run(capsys, "render", "1", "--out", "out/list.csv")
    assert outcome.code == 2
    assert outcome.err.endswith("Fout: Ongeldige waarde voor '--out': Map 'out/list.csv' is "
                                "een bestand.\n")
    assert snapshot(project) == before


def test_export_through_a_symlink_replaces_its_target_and_keeps_the_link(
        project: Path, capsys) -> None:
    link = project / "out" / "latest.csv"
    link.symlink_to("list.csv")
    assert run(capsys, "subscribers", "export", str(link)).code == 0
    assert link.is_symlink()
    assert "jan@example.org" in (project / "out" / "list.csv").read_text(encoding="utf-8-sig")


def test_a_replaced_export_keeps_the_earlier_file_mode(project: Path, capsys) -> None:
    earlier = project / "out" / "list.csv"
    earlier.chmod(0o640)
    assert run(capsys, "subscribers", "export", str(earlier)).code == 0
    assert stat.S_IMODE(earlier.stat().st_mode) == 0o640
    assert sorted(p.name for p in earlier.parent.iterdir()) == ["jan.json", "list.csv"]
