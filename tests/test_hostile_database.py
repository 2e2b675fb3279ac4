"""Hostile databases: a file that is not one, a broken or foreign one, an unknown migration, an
unreachable server. Each is one clear line, a non-zero exit, and the database left as it was."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from digiweetjes.migrations.runner import head_revision
from tests.hostile_support import base_env, run, snapshot, use_env

COMMANDS = [
    pytest.param(("init",), id="init"),
    pytest.param(("subscribers", "list"), id="list"),
    pytest.param(("subscribers", "stats"), id="stats"),
    pytest.param(("subscribers", "export", "-"), id="export"),
    pytest.param(("subscribers", "purge-pending"), id="purge"),
    pytest.param(("status", "1"), id="status"),
]
READING = [c for c in COMMANDS if c.id != "init"]


def _initialised(path: Path) -> None:
    from digiweetjes.db import Database

    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()


def _not_a_database(path: Path) -> None:
    path.write_bytes(b"Naam;E-mail\nJan;jan@example.org\n")


def _truncated(path: Path) -> None:
    _initialised(path)
    path.write_bytes(path.read_bytes()[:200])


def _at_revision(revision: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        _initialised(path)
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        connection.close()
    return make


CANNOT_BE_USED = "de databank is niet bruikbaar (sqlite:///{path}): "
UNKNOWN = ("de databank sqlite:///{path} staat op versie zzz9, die deze versie van digiweetjes "
           "niet kent (de nieuwste is {head}): installeer een nieuwere digiweetjes")
UNKNOWN_INIT = ("sqlite:///{path}: de databank staat op een onbekende migratie (zzz9); deze "
                "versie van digiweetjes kent alleen migraties tot {head}: werk digiweetjes bij, "
                "of gebruik de databank van deze versie")

CASES = [
    pytest.param(_not_a_database, CANNOT_BE_USED + "file is not a database",
                 CANNOT_BE_USED + "file is not a database", id="not-a-database"),
    pytest.param(_truncated, CANNOT_BE_USED + "database disk image is malformed",
                 CANNOT_BE_USED + "database disk image is malformed", id="truncated"),
    pytest.param(_at_revision("zzz9"), UNKNOWN_INIT, UNKNOWN, id="unknown-revision"),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_env(monkeypatch, base_env(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("make", "init_message", "message"), CASES)
def test_a_broken_database_is_one_line_and_left_alone(
        project: Path, capsys, command: tuple[str, ...], make: Callable[[Path], None],
        init_message: str, message: str) -> None:
    database = project / "subscribers.db"
    make(database)
    before = snapshot(project)
    expected = init_message if command == ("init",) else message
    outcome = run(capsys, *command)
    outcome.assert_clean_error(1, expected.format(path=database, head=head_revision()))
    assert snapshot(project) == before


@pytest.mark.parametrize("command", READING)
def test_an_empty_file_asks_for_init(project: Path, capsys, command: tuple[str, ...]) -> None:
    database = project / "subscribers.db"
    database.write_bytes(b"")
    before = snapshot(project)
    run(capsys, *command).assert_clean_error(
        1, f"de databank sqlite:///{database} heeft nog geen abonneetabellen: "
           "voer eerst `digiweetjes init` uit")
    # Connecting writes SQLite's header (WAL mode) into the empty file: still no tables.
    after = snapshot(project)
    assert after.keys() == before.keys()
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    connection.close()


@pytest.mark.parametrize("where", [
    pytest.param("folder", id="a-folder"),
    pytest.param("missing/folder/x.db", id="missing-folder"),
])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_path_that_cannot_be_opened(project: Path, monkeypatch, capsys,
                                               command: tuple[str, ...], where: str) -> None:
    (project / "folder").mkdir()
    monkeypatch.setenv("DIGIWEETJES_DATABASE_URL", f"sqlite:///{project / where}")
    before = snapshot(project)
    run(capsys, *command).assert_clean_error(
        1, f"de databank is niet bruikbaar (sqlite:///{project / where}): "
           "unable to open database file")
    assert snapshot(project) == before


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_postgresql_server_hides_the_password(
        project: Path, monkeypatch, capsys, command: tuple[str, ...]) -> None:
    pytest.importorskip("psycopg")
    monkeypatch.setenv("DIGIWEETJES_DATABASE_URL",
                       "postgresql+psycopg://digi:sup3rsecret@127.0.0.1:1/none")
    before = snapshot(project)
    outcome = run(capsys, *command)
    assert outcome.code == 1 and outcome.out == ""
    assert outcome.err.startswith(
        "Fout: de databank is niet bruikbaar (postgresql+psycopg://digi:***@127.0.0.1:1/none): ")
    assert "Connection refused" in outcome.err and len(outcome.err.splitlines()) == 1
    assert "sup3rsecret" not in outcome.err and "Traceback" not in outcome.err
    assert snapshot(project) == before


def test_a_missing_database_driver_is_a_config_error(project: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DIGIWEETJES_DATABASE_URL", "mysql://digi:sup3rsecret@db/none")
    outcome = run(capsys, "subscribers", "list")
    assert outcome.code == 78
    assert outcome.err.startswith(
        "Fout: geen databankstuurprogramma voor mysql://digi:***@db/none: ")
    assert "sup3rsecret" not in outcome.err and "Traceback" not in outcome.err
