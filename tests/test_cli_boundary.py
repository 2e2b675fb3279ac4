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
                 "Error: issues/a.md:3: date: bad date\n", id="content-error-file-line-field"),
    pytest.param(ConfigError("DIGIWEETJES_TIMEZONE: onbekende tijdzone 'X'"), 78,
                 "Error: DIGIWEETJES_TIMEZONE: onbekende tijdzone 'X'\n", id="config-error"),
    pytest.param(CheckFailed(["a.md:1: one", "a.md:2: two"]), 1,
                 "Error: a.md:1: one\na.md:2: two\n", id="check-failed-one-line-each"),
    pytest.param(StorageError("the database cannot be used: locked"), 1,
                 "Error: the database cannot be used: locked\n", id="storage-error"),
    pytest.param(SchemaOutdatedError("run `digiweetjes init`"), 1,
                 "Error: run `digiweetjes init`\n", id="schema-outdated"),
    pytest.param(OutputError("kan /x niet schrijven: de schijf is vol"), 73,
                 "Error: kan /x niet schrijven: de schijf is vol\n", id="output-error"),
    pytest.param(OSError(errno.ENOSPC, "No space left on device", "/srv/out.csv"), 74,
                 "Error: /srv/out.csv: de schijf is vol\n", id="enospc-names-file"),
    pytest.param(PermissionError(errno.EACCES, "Permission denied", "/etc/shadow"), 74,
                 "Error: /etc/shadow: geen toelating\n", id="eacces-names-file"),
    pytest.param(FileNotFoundError(errno.ENOENT, "No such file", "issues/x.md"), 74,
                 "Error: issues/x.md: het bestand of de map bestaat niet\n", id="enoent"),
    pytest.param(OSError(errno.EXDEV, "Invalid cross-device link", "a", None, "b"), 74,
                 "Error: a → b: Invalid cross-device link\n", id="two-files-os-text"),
    pytest.param(OSError(errno.EROFS, "Read-only file system"), 74,
                 "Error: het bestandssysteem is alleen-lezen\n", id="no-file-name"),
    pytest.param(DatabaseError("SELECT 1", {}, _DriverError("file is not a database")), 1,
                 "Error: the database cannot be used: file is not a database\n",
                 id="not-a-database"),
    pytest.param(OperationalError("SELECT 1", {}, _DriverError("database is locked\nmore")), 1,
                 "Error: the database cannot be used: database is locked\n", id="locked"),
    pytest.param(InterfaceError("SELECT 1", {}, _DriverError("connection already closed")), 1,
                 "Error: the database cannot be used: connection already closed\n",
                 id="connection-closed"),
    pytest.param(CommandError("Can't locate revision identified by 'zzz9'"), 1,
                 "Error: de databank kan niet gemigreerd worden: Can't locate revision "
                 "identified by 'zzz9'\n", id="alembic-unknown-revision"),
    pytest.param(click.UsageError("No such option: --x"), 2,
                 "Usage: digiweetjes boom [OPTIONS]\nTry 'digiweetjes boom --help' for help."
                 "\n\nError: No such option: --x\n", id="usage-error"),
    pytest.param(click.exceptions.Abort(), 1, "Aborted.\n", id="abort"),
    # click turns Ctrl+C inside a command into Abort (after a new line).
    pytest.param(KeyboardInterrupt(), 1, "\nAborted.\n", id="ctrl-c"),
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
