"""The CLI's one error boundary (``run_cli``): an expected failure is one line and an exit code;
only a bug keeps its traceback."""

from __future__ import annotations

import errno

import click
import pytest
from alembic.util.exc import CommandError
from sqlalchemy.exc import DatabaseError, IntegrityError, InterfaceError, OperationalError

from digiweetjes.cli.common import run_cli
from digiweetjes.errors import (
    CheckFailed,
    ConfigError,
    ContentError,
    OutputError,
    SchemaOutdatedError,
    StorageError,
)


class _DriverError(Exception):
    """Stands for the DB-API driver's own exception (its text is what a person sees)."""


def _group(error: BaseException) -> click.Group:
    @click.group()
    def group() -> None:
        """A stand-in CLI."""

    @group.command()
    def boom() -> None:
        raise error

    return group


CASES = [
    pytest.param(ContentError("bad date", path="issues/a.md", line=3, field="date"), 65,
                 "Fout: issues/a.md:3: date: bad date\n", id="content-error-file-line-field"),
    pytest.param(ConfigError("DIGIWEETJES_TIMEZONE: onbekende tijdzone 'X'"), 78,
                 "Fout: DIGIWEETJES_TIMEZONE: onbekende tijdzone 'X'\n", id="config-error"),
    pytest.param(CheckFailed(["a.md:1: one", "a.md:2: two"]), 1,
                 "Fout: a.md:1: one\na.md:2: two\n", id="check-failed-one-line-each"),
    pytest.param(StorageError("de databank is niet bruikbaar: locked"), 1,
                 "Fout: de databank is niet bruikbaar: locked\n", id="storage-error"),
    pytest.param(SchemaOutdatedError("run `digiweetjes init`"), 1,
                 "Fout: run `digiweetjes init`\n", id="schema-outdated"),
    pytest.param(OutputError("kan /x niet schrijven: de schijf is vol"), 73,
                 "Fout: kan /x niet schrijven: de schijf is vol\n", id="output-error"),
    pytest.param(OSError(errno.ENOSPC, "No space left on device", "/srv/out.csv"), 74,
                 "Fout: /srv/out.csv: de schijf is vol\n", id="enospc-names-file"),
    pytest.param(PermissionError(errno.EACCES, "Permission denied", "/etc/shadow"), 74,
                 "Fout: /etc/shadow: geen toelating\n", id="eacces-names-file"),
    pytest.param(FileNotFoundError(errno.ENOENT, "No such file", "issues/x.md"), 74,
                 "Fout: issues/x.md: het bestand of de map bestaat niet\n", id="enoent"),
    pytest.param(OSError(errno.EXDEV, "Invalid cross-device link", "a", None, "b"), 74,
                 "Fout: a → b: Invalid cross-device link\n", id="two-files-os-text"),
    pytest.param(OSError(errno.EROFS, "Read-only file system"), 74,
                 "Fout: het bestandssysteem is alleen-lezen\n", id="no-file-name"),
    pytest.param(DatabaseError("SELECT 1", {}, _DriverError("file is not a database")), 1,
                 "Fout: de databank is niet bruikbaar: file is not a database\n",
                 id="not-a-database"),
    pytest.param(OperationalError("SELECT 1", {}, _DriverError("database is locked\nmore")), 1,
                 "Fout: de databank is niet bruikbaar: database is locked\n", id="locked"),
    pytest.param(InterfaceError("SELECT 1", {}, _DriverError("connection already closed")), 1,
                 "Fout: de databank is niet bruikbaar: connection already closed\n",
                 id="connection-closed"),
    pytest.param(CommandError("Can't locate revision identified by 'zzz9'"), 1,
                 "Fout: de databank kan niet gemigreerd worden: Can't locate revision "
                 "identified by 'zzz9'\n", id="alembic-unknown-revision"),
    pytest.param(click.UsageError("No such option: --x"), 2,
                 "Gebruik: digiweetjes boom [OPTIONS]\nHulp: 'digiweetjes boom --help'."
                 "\n\nFout: No such option: --x\n", id="usage-error"),
    pytest.param(click.exceptions.Abort(), 1, "Afgebroken.\n", id="abort"),
    # click turns Ctrl+C inside a command into Abort (after a new line).
    pytest.param(KeyboardInterrupt(), 1, "\nAfgebroken.\n", id="ctrl-c"),
    pytest.param(SystemExit(3), 3, "", id="system-exit"),
]


@pytest.mark.parametrize(("error", "code", "err"), CASES)
def test_expected_failures_are_one_line_and_an_exit_code(
        error: BaseException, code: int, err: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(_group(error), ["boom"]) == code
    captured = capsys.readouterr()
    assert captured.err == err
    assert captured.out == ""
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("error", [
    pytest.param(KeyError("bug"), id="key-error"),
    pytest.param(IntegrityError("INSERT", {}, _DriverError("UNIQUE constraint failed")),
                 id="constraint-is-a-bug"),
    pytest.param(RuntimeError("bug"), id="runtime-error"),
])
def test_a_bug_keeps_its_traceback(error: BaseException) -> None:
    with pytest.raises(type(error)):
        run_cli(_group(error), ["boom"])


# --- through the real CLI: values from the public sign-up form, absurd numbers ---------------

MARKUP_NAMES = ["[/bold]", "[red]Rood", "[link=https://elders.example]klik[/link]", ":smile:",
                "Jan \\", "[bold", "[/]", "Ann [i]de[/i] Smet"]


@pytest.fixture
def project(tmp_path, monkeypatch, capsys):
    from tests.hostile_support import base_env, run, use_env

    use_env(monkeypatch, base_env(tmp_path))
    assert run(capsys, "init").code == 0
    return tmp_path


@pytest.mark.parametrize("name", MARKUP_NAMES)
def test_rich_markup_in_a_name_is_shown_literally(project, capsys, name: str) -> None:
    from tests.hostile_support import run

    assert run(capsys, "subscribers", "add", "els@example.org", "--name", "Els",
                "--consent-source", "formulier").code == 0
    assert run(capsys, "subscribers", "add", "jan@example.org", "--name", name,
                "--consent-source", name).code == 0
    listed = run(capsys, "subscribers", "list")
    assert listed.code == 0 and listed.err == ""
    assert f"│ {name} " in listed.out and "els@example.org" in listed.out  # the whole list
    shown = run(capsys, "subscribers", "show", "jan@example.org")
    assert shown.code == 0 and shown.err == ""
    assert f"│ {name} " in shown.out and f"toestemming: {name}" in shown.out
    assert run(capsys, "subscribers", "stats").code == 0


def _out_of_range(option: str, value: str, bounds: str) -> str:
    return f"Ongeldige waarde voor '--{option}': {value} ligt niet tussen de grenzen {bounds}."


@pytest.mark.parametrize(("argv", "message"), [
    pytest.param(("subscribers", "purge-pending", "--days", "-1"),
                 _out_of_range("days", "-1", "1<=x<=3650"), id="days-neg"),
    pytest.param(("subscribers", "purge-pending", "--days", "0"),
                 _out_of_range("days", "0", "1<=x<=3650"), id="days-0"),
    pytest.param(("subscribers", "purge-pending", "--days", "99999999999"),
                 _out_of_range("days", "99999999999", "1<=x<=3650"), id="days-huge"),
    pytest.param(("subscribers", "list", "--limit", "-1"),
                 _out_of_range("limit", "-1", "0<=x<=10000000"), id="limit-negative"),
    pytest.param(("subscribers", "list", "--limit", "9" * 30),
                 _out_of_range("limit", "9" * 30, "0<=x<=10000000"), id="limit-huge"),
    pytest.param(("preview", "1", "--port", "70000"),
                 _out_of_range("port", "70000", "1<=x<=65535"), id="port-huge"),
])
def test_absurd_numbers_are_refused_before_anything_happens(project, capsys, argv,
                                                            message: str) -> None:
    from tests.hostile_support import run, snapshot

    assert run(capsys, "subscribers", "add", "new@example.org").code == 0  # pending, fresh
    before = snapshot(project)
    outcome = run(capsys, *argv)
    assert outcome.code == 2 and outcome.out == ""
    assert outcome.err.endswith(f"\nFout: {message}\n") and "Traceback" not in outcome.err
    assert snapshot(project) == before


def test_the_purge_itself_refuses_a_period_under_a_day(db_settings, clock) -> None:
    from datetime import timedelta

    from digiweetjes.db import Database
    from digiweetjes.errors import SubscriberError
    from digiweetjes.subscribers import purge_expired_pending

    database = Database(db_settings.database_url)
    try:
        with pytest.raises(SubscriberError, match=r"^te korte termijn \(-1 day, 0:00:00\): zo "
                                                  "zouden ook net ingeschreven mensen gewist "
                                                  "worden; kies minstens 1 dag$"), \
                database.session() as session:
            purge_expired_pending(session, clock, db_settings, max_age=timedelta(days=-1))
    finally:
        database.dispose()
