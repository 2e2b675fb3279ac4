"""What every command shares: loading settings, turning errors into messages and exit codes."""

from __future__ import annotations

import dataclasses
import gettext
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from digiweetjes.config import Settings
from digiweetjes.errors import DigiweetjesError

_Options = TypeVar("_Options", bound=Any)

#: The gettext domain of click's own messages in Dutch (locale/nl/LC_MESSAGES/<domain>.po).
CLICK_DOMAIN = "digiweetjes_cli"
LOCALE_DIR = Path(__file__).parent / "locale"
#: Answers that mean yes / no to a question of the command line (English ones still work).
YES = frozenset({"j", "ja", "y", "yes"})
NO = frozenset({"n", "nee", "neen", "no"})


def speak_dutch() -> None:
    """Click's own texts (Gebruik:, Opties, Fout:, Ontbrekend argument ...) in Dutch.

    Click looks every text of its own up with the standard ``gettext.gettext``, i.e. in the
    process's default gettext domain, for the languages named by $LANGUAGE: point that domain at
    our catalog and ask for Dutch whatever the terminal's locale says (the command line speaks
    Dutch to everyone; developer tools that read $LANGUAGE would follow, which is harmless).
    Must run before the commands are declared: click translates some texts (a Path's "file")
    when an option is built.
    """
    os.environ["LANGUAGE"] = "nl_BE:nl"
    gettext.bindtextdomain(CLICK_DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(CLICK_DOMAIN)


def confirm(question: str, *, default: bool = False, abort: bool = False) -> bool:
    """A yes/no question in Dutch, ``[j/N]``: "j" or "ja" is yes, "n" or "nee" is no.

    (click.confirm only knows "y/n"; its answers are not translatable.) An empty answer takes
    the default; anything else asks again. ``abort``: a no stops the command ("Afgebroken.").
    """
    hint = "[J/n]" if default else "[j/N]"
    while True:
        answer = click.prompt(f"{question} {hint}", default="", show_default=False,
                              prompt_suffix=" ").strip().lower()
        if answer in YES or answer in NO or not answer:
            break
        click.echo("Antwoord met j (ja) of n (nee).", err=True)
    agreed = answer in YES if answer else default
    if abort and not agreed:
        raise click.Abort()
    return agreed


def load_settings(*, allow_local_secret: bool = False) -> Settings:
    """Settings for a command run (the only place the CLI reads the environment)."""
    return Settings.from_env(os.environ, allow_local_secret=allow_local_secret)


def overrides(options: _Options, **values: object) -> _Options:
    """``options`` with the command-line values that were given (None: not given)."""
    return dataclasses.replace(options, **{k: v for k, v in values.items() if v is not None})


class SubregionChoice(click.Choice):
    """The subregion ids of the region in projects.yaml, read when an option first needs them."""

    def __init__(self) -> None:
        # No fixed choices: the ``choices`` property reads them from the region data.
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        from digiweetjes.subscribers.places import region

        return region(load_settings()).subregion_ids

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str | None:
        try:
            return super().get_metavar(param, ctx)
        except DigiweetjesError:
            return "SUBREGIO"  # --help still works with a broken projects.yaml


def table_moment(moment: datetime, timezone: str) -> str:
    """``27/11/2026 14:05`` in ``timezone``: how the CLI's tables write a moment (sentences use
    ``release.wording.moment``: "dinsdag 8 december 2026 om 09:00")."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the database's naive moments are UTC
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M")


def fail(message: str, exit_code: int = 1) -> None:
    """Print an error for a person and stop with a non-zero exit."""
    click.echo(f"Fout: {message}", err=True)
    sys.exit(exit_code)


def describe_os_error(exc: OSError) -> str:
    """One line for an OS error a person can act on: the file(s) and why, in Dutch."""
    from digiweetjes.files import os_reason

    files = " → ".join(str(name) for name in (exc.filename, exc.filename2) if name is not None)
    return f"{files}: {os_reason(exc)}" if files else os_reason(exc)


def _loaded(module: str, name: str) -> type[BaseException] | tuple[()]:
    """The exception class ``module.name`` if that module is imported, else nothing to match.

    An error of a library that was never imported cannot occur; not importing SQLAlchemy and
    Alembic just to name their errors keeps ``--help`` and the editor commands quick.
    """
    loaded = sys.modules.get(module)
    return getattr(loaded, name) if loaded is not None else ()


def run_cli(group: click.Group, argv: list[str]) -> int:
    """Run the click group; no traceback reaches a user.

    The one error boundary of the command line: every ``DigiweetjesError`` and every expected
    failure of the system around us (the disk, the database driver, a migration the code does
    not know) becomes one line and a non-zero exit. Anything else is a bug and keeps its
    traceback.
    """
    try:
        group.main(args=argv, prog_name="digiweetjes", standalone_mode=False)
    except DigiweetjesError as exc:
        click.echo(f"Fout: {exc}", err=True)
        return exc.exit_code
    except OSError as exc:
        # Disk full, no permission, a folder that vanished: the domain code lets these through.
        click.echo(f"Fout: {describe_os_error(exc)}", err=True)
        return 74  # EX_IOERR
    except _loaded("sqlalchemy.exc", "DBAPIError") as exc:
        # Normally translated in db.py; one that slips through is still the database's state
        # (a constraint or SQL error is a bug, and keeps its traceback).
        from digiweetjes.db import is_unusable, storage_error

        if not is_unusable(exc):
            raise
        click.echo(f"Fout: {storage_error(exc)}", err=True)
        return 1
    except _loaded("alembic.util.exc", "CommandError") as exc:
        # Alembic ("Can't locate revision ..."): normally translated by the migration runner.
        click.echo(f"Fout: de databank kan niet gemigreerd worden: {exc}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("Afgebroken.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Onderbroken.", err=True)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0
