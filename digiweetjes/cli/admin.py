"""``digiweetjes init`` and ``digiweetjes subscribers ...``: the admins' commands for the list."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from babel.dates import format_datetime
from rich.console import Console
from rich.table import Table
from rich.text import Text

from digiweetjes.cli.common import SubregionChoice
from digiweetjes.clock import SystemClock
from digiweetjes.config import Settings
from digiweetjes.files import open_atomically, write_atomically
from digiweetjes.models import SubscriberStatus

STATUSES = [s.value for s in SubscriberStatus]
#: Upper bounds of the numeric options: far beyond any real use, below any overflow.
MAX_LIMIT = 10_000_000
MAX_PENDING_DAYS = 3650


def _row(*values: str) -> list[Text]:
    """Table cells shown literally: names come from the public sign-up form, and a ``[/bold]``
    or ``[red]`` in one must not be read as Rich markup (it broke the whole table)."""
    return [Text(value) for value in values]


def _console() -> Console:
    # Piped output (files, tests) gets a wide fixed width instead of being cut at 80 columns.
    return Console(highlight=False, soft_wrap=False,
                   width=None if sys.stdout.isatty() else 160)


def _when(settings: Settings, moment: datetime | None) -> str:
    """``1 dec. 2026 10:00`` in the list's time zone; empty when absent."""
    if moment is None:
        return ""
    return format_datetime(moment, "d MMM y HH:mm", tzinfo=settings.timezone, locale="nl_BE")


def _settings() -> Settings:
    from digiweetjes.cli.common import load_settings

    return load_settings()


@contextmanager
def _session(settings: Settings) -> Iterator[object]:
    """One transaction on the checked database (schema at head, or a clear error)."""
    from digiweetjes.db import open_database

    database = open_database(settings.database_url)
    try:
        with database.session() as session:
            yield session
    finally:
        database.dispose()


def _clock() -> SystemClock:
    """The real clock: the CLI is one of the few places that reads it."""
    return SystemClock()


def _municipality(settings: Settings, value: str | None) -> str | None:
    from digiweetjes.subscribers.places import municipality_and_subregion

    return municipality_and_subregion(settings, value)[0] if value else None


@click.command("init")
def init() -> None:
    """Create the database or bring it to the code's schema (Alembic migrations)."""
    from digiweetjes.db import Database, describe_url

    settings = _settings()
    database = Database(settings.database_url)
    try:
        revision = database.upgrade()
    finally:
        database.dispose()
    click.echo(f"Database {describe_url(settings.database_url)} is at revision {revision}.")


@click.group("subscribers")
def subscribers() -> None:
    """Manage the subscriber list (add, list, import, export, erase ...)."""


@subscribers.command("add")
@click.argument("email")
@click.option("--name", help="Display name.")
@click.option("--municipality", help="One of the ten municipalities of the region.")
@click.option("--topic", "topics", multiple=True, help="Topic id or label (repeatable).")
@click.option("--consent-source",
              help="How consent was obtained (e.g. a signed paper form); the person is then "
                   "active at once. Without it they get a confirmation email.")
def add(email: str, name: str | None, municipality: str | None, topics: tuple[str, ...],
        consent_source: str | None) -> None:
    """Add one person to the list."""
    from digiweetjes.providers.registry import get_provider
    from digiweetjes.subscribers import add_subscriber

    settings = _settings()
    provider = get_provider(settings, _clock())
    warnings: list[str] = []
    try:
        with _session(settings) as session:
            subscriber = add_subscriber(session, provider, _clock(), settings, email=email,
                                        name=name, municipality=municipality,
                                        topics=list(topics), consent_source=consent_source,
                                        warnings=warnings)
    finally:
        provider.close()
    if subscriber.status == SubscriberStatus.ACTIVE:
        click.echo(f"Added {subscriber.email} as active (consent source: {consent_source}).")
    else:
        click.echo(f"Added {subscriber.email} as pending; a confirmation email was sent.")
    for warning in warnings:
        click.echo(f"Let op: {warning}")


@subscribers.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@click.option("--municipality", help="Only this municipality.")
@click.option("--subregion", type=SubregionChoice())
@click.option("--topic", help="Only people interested in this topic.")
@click.option("--search", help="Part of an address or name.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(0, MAX_LIMIT),
              help="At most this many rows (0: all).")
def list_(status: str | None, municipality: str | None, subregion: str | None,
          topic: str | None, search: str | None, limit: int) -> None:
    """Show subscribers as a table."""
    from digiweetjes.subscribers import list_subscribers

    settings = _settings()
    topic_id = _topic(topic) if topic else None
    with _session(settings) as session:
        rows = list_subscribers(session, status=status,
                                municipality=_municipality(settings, municipality),
                                subregion=subregion, topic=topic_id, search=search,
                                limit=limit or None)
        table = Table(title=f"Subscribers ({len(rows)} shown)")
        for column in ("Email", "Name", "Municipality", "Subregion", "Topics", "Status",
                       "Since"):
            table.add_column(column)
        for s in rows:
            table.add_row(*_row(s.email or "(erased)", s.name or "", s.municipality or "",
                                s.subregion or "", ", ".join(s.topics) or "all", s.status,
                                _when(settings, s.confirmed_at or s.created_at)))
    _console().print(table)


def _topic(value: str) -> str:
    from digiweetjes.errors import SubscriberError
    from digiweetjes.subscribers.topics import TOPICS, canonical_topic

    topic = canonical_topic(value)
    if topic is None:
        raise SubscriberError(f"unknown topic {value!r} (expected one of: {', '.join(TOPICS)})")
    return topic


@subscribers.command("show")
@click.argument("email")
def show(email: str) -> None:
    """Everything about one subscriber, with their consent history."""
    from digiweetjes.subscribers import consent_history, get_subscriber, suppression_of

    settings = _settings()
    console = _console()
    with _session(settings) as session:
        s = get_subscriber(session, email)
        suppression = suppression_of(session, settings, email)
        details = Table(show_header=False, title=Text(s.email or ""))
        details.add_column("field", style="bold")
        details.add_column("value")
        for label, value in (
            ("Name", s.name or ""), ("Municipality", s.municipality or ""),
            ("Subregion", s.subregion or ""), ("Topics", ", ".join(s.topics) or "all"),
            ("Language", s.language), ("Status", s.status), ("Source", s.source),
            ("Consent source", s.consent_note or ""),
            ("Created", _when(settings, s.created_at)),
            ("Confirmation sent", _when(settings, s.confirmation_sent_at)),
            ("Confirmed", _when(settings, s.confirmed_at)),
            ("Unsubscribed", _when(settings, s.unsubscribed_at)),
            ("Bounced", _when(settings, s.bounced_at)),
            ("Complained", _when(settings, s.complained_at)),
            ("Suppressed", f"{suppression.reason} since "
                           f"{_when(settings, suppression.created_at)}" if suppression else "no"),
        ):
            details.add_row(*_row(label, value))
        history = Table(title="Consent history")
        for column in ("When", "Event", "Source", "Privacy notice", "Detail"):
            history.add_column(column)
        for event in consent_history(session, s):
            history.add_row(*_row(_when(settings, event.occurred_at), event.event,
                                  event.source, event.privacy_notice_version or "",
                                  event.detail or ""))
    console.print(details)
    console.print(history)


@subscribers.command("remove")
@click.argument("email")
def remove(email: str) -> None:
    """Unsubscribe someone (on their request by phone or mail); they stay suppressed."""
    from digiweetjes.subscribers import remove_subscriber

    settings = _settings()
    with _session(settings) as session:
        subscriber = remove_subscriber(session, _clock(), settings, email)
        status = subscriber.status
    click.echo(f"{email.strip()} is now {status} and on the suppression list.")


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--consent-source",
              help="How these people consented (e.g. 'inschrijvingslijst infosessie Damme "
                   "2026-03-12'); they become active. Without it they become pending and "
                   "get a confirmation email.")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would happen.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows even when some are rejected (default: none).")
def import_(file: Path, consent_source: str | None, dry_run: bool, skip_invalid: bool) -> None:
    """Import a CSV file (Excel ';' or ',' ; UTF-8, UTF-8 with BOM or Windows-1252)."""
    from digiweetjes.subscribers.csv_import import import_csv

    settings = _settings()
    with _session(settings) as session:
        report = import_csv(session, _clock(), settings, file, consent_source=consent_source,
                            dry_run=dry_run, skip_invalid=skip_invalid)
    delimiter = {";": "';'", ",": "','", "\t": "tab"}[report.delimiter]
    columns = ", ".join(f"{k}={v!r}" for k, v in report.columns.items())
    click.echo(f"{file.name}: {report.encoding}, delimiter {delimiter}, "
               f"columns {columns or 'none (no header row)'}")
    if report.ignored_columns:
        click.echo(f"  ignored columns: {', '.join(report.ignored_columns)}")
    verb = "would be added" if dry_run else "added"
    click.echo(f"  {report.rows} rows read, {report.added} {verb} as {report.status}, "
               f"{report.already_on_list} already on the list, {report.suppressed} suppressed "
               f"(skipped), {report.duplicates} duplicates in the file (skipped), "
               f"{report.empty_lines} empty lines, {report.rejected} rejected")
    for line in report.notes:
        click.echo(f"  {line}")
    for line in report.problem_lines():
        click.echo(f"  rejected: {line}")
    if dry_run:
        click.echo("Dry run: nothing was changed.")
        return
    if report.status == SubscriberStatus.PENDING and report.added:
        sent = _send_confirmations(settings)
        click.echo(f"{sent} confirmation emails sent.")


def _send_confirmations(settings: Settings) -> int:
    """Send the pending confirmations; what was sent is committed even when the run stops."""
    import time

    from digiweetjes.errors import ProviderError
    from digiweetjes.providers.registry import get_provider
    from digiweetjes.subscribers import send_pending_confirmations

    provider = get_provider(settings, _clock())
    problems: list[str] = []
    try:
        with _session(settings) as session:
            sent = send_pending_confirmations(session, provider, _clock(), settings,
                                              pause=time.sleep, problems=problems)
    finally:
        provider.close()
    for line in problems:
        click.echo(f"  {line}")
    if any(line.startswith("gestopt") for line in problems):
        raise ProviderError(f"{sent} bevestigingsmails verstuurd, daarna gestopt (zie hierboven)")
    return sent


@subscribers.command("send-confirmations")
def send_confirmations() -> None:
    """Mail a confirmation to every pending person who has not had one (e.g. after an import)."""
    click.echo(f"{_send_confirmations(_settings())} confirmation emails sent.")


@subscribers.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@click.option("--municipality", help="Only this municipality.")
@click.option("--subregion", type=SubregionChoice())
@click.option("--topic", help="Only people interested in this topic.")
def export(file: Path, status: str | None, municipality: str | None, subregion: str | None,
           topic: str | None) -> None:
    """Write a CSV for Excel (UTF-8 with BOM, ';'); FILE '-' writes to standard output."""
    from digiweetjes.subscribers.csv_export import export_csv

    settings = _settings()
    municipality = _municipality(settings, municipality)
    topic_id = _topic(topic) if topic else None
    with _session(settings) as session:
        if str(file) == "-":
            count = export_csv(session, sys.stdout, status=status, municipality=municipality,
                               subregion=subregion, topic=topic_id, timezone=settings.timezone)
            return
        # Written whole or not at all: a full disk leaves no half (or 0-byte) file, and a
        # device such as /dev/full is written to, never renamed over.
        with open_atomically(file) as raw:
            handle = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            count = export_csv(session, handle, status=status, municipality=municipality,
                               subregion=subregion, topic=topic_id, timezone=settings.timezone)
            handle.detach()  # flushes; the raw handle is open_atomically's to close
    click.echo(f"{count} subscribers written to {file}.")


@subscribers.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(email: str, yes: bool) -> None:
    """Right to be forgotten: delete the personal data of EMAIL (cannot be undone)."""
    from digiweetjes.subscribers import erase as erase_person

    settings = _settings()
    if not yes:
        click.confirm(f"Erase all personal data of {email.strip()}? This cannot be undone",
                      abort=True)
    with _session(settings) as session:
        result = erase_person(session, _clock(), settings, email)
    held = "their subscriber record and " if result.subscriber_id else ""
    click.echo(f"Erased {held}{result.ledger_events} ledger address(es); the address is kept "
               "only as a keyed hash (ledger and suppression list).")


@subscribers.command("export-person")
@click.argument("email")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON here instead of standard output.")
def export_person(email: str, output: Path | None) -> None:
    """Right of access: everything held on EMAIL, as JSON."""
    from digiweetjes.subscribers import export_person as export

    settings = _settings()
    with _session(settings) as session:
        data = export(session, settings, email)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
        click.echo(f"Written to {output}.")


@subscribers.command("purge-pending")
@click.option("--days", default=30, show_default=True,
              type=click.IntRange(1, MAX_PENDING_DAYS),
              help="Age of unconfirmed entries (at least 1: 0 or less would delete fresh "
                   "sign-ups).")
def purge_pending(days: int) -> None:
    """Delete pending (never confirmed) people older than DAYS (the scheduler does this too)."""
    from datetime import timedelta

    from digiweetjes.subscribers import purge_expired_pending

    settings = _settings()
    with _session(settings) as session:
        count = purge_expired_pending(session, _clock(), settings, max_age=timedelta(days=days))
    click.echo(f"{count} unconfirmed subscriber(s) older than {days} days deleted.")


@subscribers.command("stats")
def stats() -> None:
    """Counts by status, and by municipality and Digibank subregion."""
    from digiweetjes.subscribers import list_stats
    from digiweetjes.subscribers.places import region

    settings = _settings()
    with _session(settings) as session:
        numbers = list_stats(session)
    console = _console()
    shown = [s for s in STATUSES if s != SubscriberStatus.ERASED]
    by_status = Table(title="By status")
    by_status.add_column("Status")
    by_status.add_column("Count", justify="right")
    for status in STATUSES:
        by_status.add_row(*_row(status, str(numbers.by_status[status])))
    by_status.add_row(*_row("suppressed addresses", str(numbers.suppressed)))
    console.print(by_status)
    the_region = region(settings)
    for title, groups, order in (
        ("By municipality", numbers.by_municipality, list(the_region.municipalities)),
        ("By subregion", numbers.by_subregion, [s.id for s in the_region.subregions]),
    ):
        table = Table(title=title)
        table.add_column(title.split()[-1].capitalize())
        for status in shown:
            table.add_column(status, justify="right")
        for key in [*order, None]:
            counts = groups.get(key, {})
            table.add_row(*_row(key or "(none)", *(str(counts.get(s, 0)) for s in shown)))
        console.print(table)


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
    cli.add_command(init)
    cli.add_command(subscribers)
