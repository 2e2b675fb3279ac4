"""``digiweetjes users ...``: the accounts of the admin pages (add, list, remove,
reset-password). Dutch, like the pages; every change goes to the audit log as "cli".

Passwords are never arguments (they would stay in the shell history and the process list):
they are asked twice without echo, or read from standard input with ``--password-stdin``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from digiweetjes.cli.common import confirm, table_moment
from digiweetjes.clock import SystemClock
from digiweetjes.config import Settings
from digiweetjes.errors import UserError

ROLES = ["editor", "admin"]
ROLE_NAMES = {"editor": "redacteur", "admin": "beheerder"}


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """One transaction on the checked database (schema at head, or a clear error)."""
    from digiweetjes.db import open_database

    database = open_database(settings.database_url)
    try:
        with database.session(write=True) as session:
            yield session
    finally:
        database.dispose()


def _settings() -> Settings:
    from digiweetjes.cli.common import load_settings

    return load_settings()


def _fail(message: str) -> None:
    click.echo(f"Fout: {message}", err=True)
    sys.exit(1)


@contextmanager
def _dutch_errors() -> Iterator[None]:
    """A refused change is one Dutch line and exit code 1 (nothing was changed)."""
    try:
        yield
    except UserError as exc:
        _fail(f"{exc} Er is niets veranderd.")


def _password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or asked twice without echo."""
    from digiweetjes.users.passwords import check_password

    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    else:
        password = click.prompt("Wachtwoord (minstens 12 tekens)", hide_input=True,
                                prompt_suffix=": ")
        check_password(password)  # before asking again: no need to type a short one twice
        again = click.prompt("Nog eens, ter controle", hide_input=True, prompt_suffix=": ")
        if again != password:
            raise UserError("De twee wachtwoorden zijn niet gelijk.")
    check_password(password)
    return password


def _when(settings: Settings, moment: datetime | None) -> str:
    return "nog nooit" if moment is None else table_moment(moment, settings.timezone)


@click.group("users")
def users() -> None:
    """Gebruikers van de beheerpagina's (redacteurs en beheerders)."""


@users.command("add")
@click.argument("name", metavar="NAAM")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="editor: nummers voorbereiden; admin: ook de abonnees beheren.")
@click.option("--password-stdin", is_flag=True, help="Lees het wachtwoord van de standaardinvoer.")
def add(name: str, role: str, password_stdin: bool) -> None:
    """Een gebruiker toevoegen (het wachtwoord wordt gevraagd)."""
    from digiweetjes.users import CLI_ACTOR, create_user, normalize_name

    settings = _settings()
    with _dutch_errors():
        normalize_name(name)  # a wrong name is said before the password is asked
        password = _password(password_stdin)
        with _session(settings) as session:
            user = create_user(session, SystemClock(), name, role, password, actor=CLI_ACTOR)
    click.echo(f"Gebruiker {user.name} toegevoegd als {ROLE_NAMES[user.role]}.")


@users.command("list")
def list_() -> None:
    """De gebruikers tonen."""
    from digiweetjes.users import list_users

    settings = _settings()
    with _session(settings) as session:
        found = list_users(session)
    if not found:
        click.echo("Er zijn nog geen gebruikers. Voeg er een toe met: "
                   "digiweetjes users add NAAM --role admin")
        return
    table = Table(title=f"Gebruikers ({len(found)})")
    for column in ("Naam", "Rol", "Toegevoegd", "Laatst aangemeld"):
        table.add_column(column)
    for user in found:
        table.add_row(*(Text(value) for value in (
            user.name, ROLE_NAMES[user.role], _when(settings, user.created_at),
            _when(settings, user.last_login_at))))
    Console(highlight=False, soft_wrap=False,
            width=None if sys.stdout.isatty() else 160).print(table)


@users.command("remove")
@click.argument("name", metavar="NAAM")
@click.option("--yes", is_flag=True, help="Niet om bevestiging vragen.")
def remove(name: str, yes: bool) -> None:
    """Een gebruiker verwijderen; zijn of haar sessies eindigen meteen."""
    from digiweetjes.users import CLI_ACTOR, normalize_name, remove_user

    settings = _settings()
    with _dutch_errors():
        stored = normalize_name(name)
        if not yes and not confirm(f"Gebruiker {stored} verwijderen?"):
            click.echo("Niets veranderd.")
            return
        with _session(settings) as session:
            remove_user(session, SystemClock(), stored, actor=CLI_ACTOR)
    click.echo(f"Gebruiker {stored} verwijderd; wie als {stored} aangemeld was, is afgemeld.")


@users.command("reset-password")
@click.argument("name", metavar="NAAM")
@click.option("--password-stdin", is_flag=True, help="Lees het wachtwoord van de standaardinvoer.")
def reset_password_(name: str, password_stdin: bool) -> None:
    """Een nieuw wachtwoord instellen; de sessies van die gebruiker eindigen meteen."""
    from digiweetjes.users import CLI_ACTOR, normalize_name, reset_password

    settings = _settings()
    with _dutch_errors():
        stored = normalize_name(name)
        password = _password(password_stdin)
        with _session(settings) as session:
            reset_password(session, SystemClock(), stored, password, actor=CLI_ACTOR)
    click.echo(f"Nieuw wachtwoord ingesteld voor {stored}; bestaande sessies zijn beëindigd.")


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
    cli.add_command(users)
