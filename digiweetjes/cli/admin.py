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
from rich.console import Console
from rich.table import Table
from rich.text import Text

from digiweetjes.cli.common import SubregionChoice, confirm, table_moment
from digiweetjes.clock import SystemClock
from digiweetjes.config import Settings
from digiweetjes.files import open_atomically, write_atomically
from digiweetjes.models import SubscriberStatus
from digiweetjes.subscribers.labels import label

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
    """``01/12/2026 10:00`` in the list's time zone; empty when absent."""
    return table_moment(moment, settings.timezone) if moment is not None else ""


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
    """Maak de databank aan of breng ze bij naar de versie van de code (migraties)."""
    from digiweetjes.db import Database, describe_url

    settings = _settings()
    database = Database(settings.database_url)
    try:
        revision = database.upgrade()
    finally:
        database.dispose()
    click.echo(f"Databank {describe_url(settings.database_url)} staat op versie {revision}.")


@click.group("subscribers")
def subscribers() -> None:
    """Beheer de abonneelijst (toevoegen, tonen, importeren, exporteren, wissen ...)."""


@subscribers.command("add")
@click.argument("email", metavar="E-MAILADRES")
@click.option("--name", metavar="NAAM", help="Naam zoals die in de mail komt.")
@click.option("--municipality", metavar="GEMEENTE",
              help="Een van de tien gemeenten van de regio.")
@click.option("--topic", "topics", metavar="THEMA", multiple=True,
              help="Thema (id of naam; mag meermaals).")
@click.option("--consent-source", metavar="BRON",
              help="Hoe de toestemming gegeven werd (bv. een ondertekend papieren formulier); "
                   "de persoon is dan meteen actief. Zonder: hij of zij krijgt een "
                   "bevestigingsmail.")
def add(email: str, name: str | None, municipality: str | None, topics: tuple[str, ...],
        consent_source: str | None) -> None:
    """Eén persoon aan de lijst toevoegen."""
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
        click.echo(f"{subscriber.email} toegevoegd als actief (toestemming: {consent_source}).")
    else:
        click.echo(f"{subscriber.email} toegevoegd als wachtend op bevestiging; de "
                   "bevestigingsmail is verstuurd.")
    for warning in warnings:
        click.echo(f"Let op: {warning}")


@subscribers.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Enkel deze status.")
@click.option("--municipality", metavar="GEMEENTE", help="Enkel deze gemeente.")
@click.option("--subregion", type=SubregionChoice(), help="Enkel deze Digibank-subregio.")
@click.option("--topic", metavar="THEMA", help="Enkel wie dit thema wil volgen.")
@click.option("--search", metavar="TEKST", help="Een stuk van een adres of naam.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(0, MAX_LIMIT),
              help="Hoogstens zoveel rijen (0: alle).")
def list_(status: str | None, municipality: str | None, subregion: str | None,
          topic: str | None, search: str | None, limit: int) -> None:
    """De abonnees tonen als tabel."""
    from digiweetjes.subscribers import list_subscribers

    settings = _settings()
    topic_id = _topic(topic) if topic else None
    with _session(settings) as session:
        rows = list_subscribers(session, status=status,
                                municipality=_municipality(settings, municipality),
                                subregion=subregion, topic=topic_id, search=search,
                                limit=limit or None)
        table = Table(title=f"Abonnees ({len(rows)} getoond)")
        for column in ("E-mailadres", "Naam", "Gemeente", "Subregio", "Thema's", "Status",
                       "Sinds"):
            table.add_column(column)
        for s in rows:
            table.add_row(*_row(s.email or "(gewist)", s.name or "", s.municipality or "",
                                s.subregion or "", ", ".join(s.topics) or "alle",
                                label("status", s.status),
                                _when(settings, s.confirmed_at or s.created_at)))
    _console().print(table)


def _topic(value: str) -> str:
    from digiweetjes.errors import SubscriberError
    from digiweetjes.subscribers.topics import TOPICS, canonical_topic
    from digiweetjes.suggest import did_you_mean

    topic = canonical_topic(value)
    if topic is None:
        raise SubscriberError(f"onbekend thema {value!r}{did_you_mean(value, TOPICS)} "
                              f"(kies uit: {', '.join(TOPICS)})")
    return topic


@subscribers.command("show")
@click.argument("email", metavar="E-MAILADRES")
def show(email: str) -> None:
    """Alles over één abonnee, met de geschiedenis van de toestemming."""
    from digiweetjes.subscribers import consent_history, get_subscriber, suppression_of

    settings = _settings()
    console = _console()
    with _session(settings) as session:
        s = get_subscriber(session, email)
        suppression = suppression_of(session, settings, email)
        details = Table(show_header=False, title=Text(s.email or ""))
        details.add_column("veld", style="bold")
        details.add_column("waarde")
        for field, value in (
            ("Naam", s.name or ""), ("Gemeente", s.municipality or ""),
            ("Subregio", s.subregion or ""), ("Thema's", ", ".join(s.topics) or "alle"),
            ("Taal", s.language), ("Status", label("status", s.status)),
            ("Herkomst", label("source", s.source)),
            ("Bron van de toestemming", s.consent_note or ""),
            ("Aangemaakt", _when(settings, s.created_at)),
            ("Bevestigingsmail verstuurd", _when(settings, s.confirmation_sent_at)),
            ("Bevestigd", _when(settings, s.confirmed_at)),
            ("Uitgeschreven", _when(settings, s.unsubscribed_at)),
            ("Mail kwam terug (bounce)", _when(settings, s.bounced_at)),
            ("Klacht (spam)", _when(settings, s.complained_at)),
            ("Geblokkeerd", f"{label('suppression', suppression.reason)} sinds "
                            f"{_when(settings, suppression.created_at)}" if suppression else "nee"),
        ):
            details.add_row(*_row(field, value))
        history = Table(title="Geschiedenis van de toestemming")
        for column in ("Wanneer", "Gebeurtenis", "Bron", "Privacyverklaring", "Detail"):
            history.add_column(column)
        for event in consent_history(session, s):
            history.add_row(*_row(_when(settings, event.occurred_at),
                                  label("event", event.event), label("source", event.source),
                                  event.privacy_notice_version or "",
                                  event.detail or ""))
    console.print(details)
    console.print(history)


@subscribers.command("remove")
@click.argument("email", metavar="E-MAILADRES")
def remove(email: str) -> None:
    """Iemand uitschrijven (op eigen vraag, per telefoon of mail); het adres blijft
    geblokkeerd."""
    from digiweetjes.subscribers import remove_subscriber

    settings = _settings()
    with _session(settings) as session:
        subscriber = remove_subscriber(session, _clock(), settings, email)
        status = subscriber.status
    click.echo(f"{email.strip()} is nu {label('status', status)} en op de blokkeerlijst.")


@subscribers.command("import")
@click.argument("file", metavar="BESTAND",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--consent-source", metavar="BRON",
              help="Hoe deze mensen toestemming gaven (bv. 'inschrijvingslijst infosessie Damme "
                   "12/03/2026'); ze worden meteen actief. Zonder: ze wachten op bevestiging "
                   "en krijgen een bevestigingsmail.")
@click.option("--dry-run", is_flag=True, help="Enkel tonen wat er zou gebeuren (proefdraai).")
@click.option("--skip-invalid", is_flag=True,
              help="De goede rijen importeren, ook als er rijen geweigerd worden (standaard: "
                   "dan niets).")
def import_(file: Path, consent_source: str | None, dry_run: bool, skip_invalid: bool) -> None:
    """Een CSV-bestand importeren (Excel, ';' of ','; UTF-8, UTF-8 met BOM of Windows-1252).
    Rijnummers tellen zoals Excel: de kopregel is rij 1."""
    from digiweetjes.subscribers.csv_import import import_csv

    settings = _settings()
    with _session(settings) as session:
        report = import_csv(session, _clock(), settings, file, consent_source=consent_source,
                            dry_run=dry_run, skip_invalid=skip_invalid)
    from digiweetjes.cli.subscriber_text import import_report_lines

    for line in import_report_lines(report, file.name, dry_run=dry_run):
        click.echo(line)
    if dry_run:
        return
    if report.status == SubscriberStatus.PENDING and report.added:
        sent = _send_confirmations(settings)
        click.echo(f"{sent} bevestigingsmail(s) verstuurd.")


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
    """Een bevestigingsmail sturen naar wie nog wacht en er nog geen kreeg (bv. na een
    import)."""
    click.echo(f"{_send_confirmations(_settings())} bevestigingsmail(s) verstuurd.")


@subscribers.command("export")
@click.argument("file", metavar="BESTAND", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status", type=click.Choice(STATUSES), help="Enkel deze status.")
@click.option("--municipality", metavar="GEMEENTE", help="Enkel deze gemeente.")
@click.option("--subregion", type=SubregionChoice(), help="Enkel deze Digibank-subregio.")
@click.option("--topic", metavar="THEMA", help="Enkel wie dit thema wil volgen.")
def export(file: Path, status: str | None, municipality: str | None, subregion: str | None,
           topic: str | None) -> None:
    """Een CSV-bestand voor Excel schrijven (UTF-8 met BOM, ';'); BESTAND '-' schrijft naar
    de standaarduitvoer."""
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
    click.echo(f"{count} abonnee(s) weggeschreven naar {file}.")


@subscribers.command("erase")
@click.argument("email", metavar="E-MAILADRES")
@click.option("--yes", is_flag=True, help="Niet om bevestiging vragen.")
def erase(email: str, yes: bool) -> None:
    """Recht op vergetelheid: de persoonsgegevens van E-MAILADRES wissen (onomkeerbaar)."""
    from digiweetjes.subscribers import erase as erase_person

    settings = _settings()
    if not yes:
        confirm(f"Alle persoonsgegevens van {email.strip()} wissen? Dit kan niet ongedaan "
                "gemaakt worden.", abort=True)
    with _session(settings) as session:
        result = erase_person(session, _clock(), settings, email)
    held = "de abonneegegevens en " if result.subscriber_id else ""
    click.echo(f"Gewist: {held}{result.ledger_events} adres(sen) in het toestemmingsregister; "
               "van het adres blijft enkel een hash met de geheime sleutel over (in het "
               "register en op de blokkeerlijst).")


@subscribers.command("export-person")
@click.argument("email", metavar="E-MAILADRES")
@click.option("-o", "--output", metavar="BESTAND",
              type=click.Path(dir_okay=False, path_type=Path),
              help="De JSON naar dit bestand schrijven in plaats van naar de standaarduitvoer.")
def export_person(email: str, output: Path | None) -> None:
    """Recht op inzage: alles wat over E-MAILADRES bewaard wordt, als JSON."""
    from digiweetjes.subscribers import export_person as export

    settings = _settings()
    with _session(settings) as session:
        data = export(session, settings, email)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
        click.echo(f"Weggeschreven naar {output}.")


@subscribers.command("purge-pending")
@click.option("--days", default=30, show_default=True,
              type=click.IntRange(1, MAX_PENDING_DAYS),
              help="Ouderdom in dagen van onbevestigde inschrijvingen (minstens 1: 0 zou "
                   "verse inschrijvingen wissen).")
def purge_pending(days: int) -> None:
    """Onbevestigde inschrijvingen ouder dan --days dagen wissen (de planner doet dit ook)."""
    from datetime import timedelta

    from digiweetjes.subscribers import purge_expired_pending

    settings = _settings()
    with _session(settings) as session:
        count = purge_expired_pending(session, _clock(), settings, max_age=timedelta(days=days))
    click.echo(f"{count} onbevestigde inschrijving(en) ouder dan {days} dagen gewist.")


@subscribers.command("stats")
def stats() -> None:
    """Aantallen per status, per gemeente en per Digibank-subregio."""
    from digiweetjes.subscribers import list_stats
    from digiweetjes.subscribers.places import region

    settings = _settings()
    with _session(settings) as session:
        numbers = list_stats(session)
    console = _console()
    shown = [s for s in STATUSES if s != SubscriberStatus.ERASED]
    by_status = Table(title="Per status")
    by_status.add_column("Status")
    by_status.add_column("Aantal", justify="right")
    for status in STATUSES:
        by_status.add_row(*_row(label("status", status), str(numbers.by_status[status])))
    by_status.add_row(*_row("geblokkeerde adressen", str(numbers.suppressed)))
    console.print(by_status)
    the_region = region(settings)
    for title, column, groups, order in (
        ("Per gemeente", "Gemeente", numbers.by_municipality,
         list(the_region.municipalities)),
        ("Per subregio", "Subregio", numbers.by_subregion,
         [s.id for s in the_region.subregions]),
    ):
        table = Table(title=title)
        table.add_column(column)
        for status in shown:
            table.add_column(label("status", status), justify="right")
        for key in [*order, None]:
            counts = groups.get(key, {})
            table.add_row(*_row(key or "(geen)", *(str(counts.get(s, 0)) for s in shown)))
        console.print(table)


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
    cli.add_command(init)
    cli.add_command(subscribers)
