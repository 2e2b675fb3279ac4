"""``digiweetjes providers ...``: what the mail provider keeps of its own.

``providers sync-suppressions`` reads the provider's suppression lists (all pages) and only then
writes them into our list in one transaction: a provider or network error stops it before
anything is written, and a run either takes everything the lists held or nothing. (Committing
page by page would be harmless too, the sync being idempotent, but all-or-nothing leaves one
clear state to report.)
"""

from __future__ import annotations

import click

from digiweetjes.cli.common import fail, load_settings
from digiweetjes.clock import SystemClock
from digiweetjes.errors import ProviderError

#: The variables holding each provider's credentials, named when the provider refuses them.
CREDENTIALS = {
    "postmark": "DIGIWEETJES_PROVIDER_SERVER_TOKEN",
    "mailjet": "DIGIWEETJES_PROVIDER_API_KEY en DIGIWEETJES_PROVIDER_SECRET_KEY",
}
KIND_LABELS = {"complaint": "klachten", "bounce": "bounces", "unsubscribe": "afmeldingen"}


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
    cli.add_command(providers_group)


@click.group("providers")
def providers_group() -> None:
    """De eigen lijsten van de maildienst."""


class _DryRun(Exception):
    """Leaves the transaction by rolling it back, carrying the report out."""

    def __init__(self, report: object) -> None:
        super().__init__("dry run")
        self.report = report


@providers_group.command("sync-suppressions")
@click.option("--dry-run", is_flag=True,
              help="De lijsten van de maildienst lezen en tonen, maar niets wijzigen.")
def sync_suppressions_command(dry_run: bool) -> None:
    """De afmeldingen, bounces en klachten van de maildienst overnemen in onze blokkeerlijst."""
    from digiweetjes.db import open_database
    from digiweetjes.providers.registry import get_provider
    from digiweetjes.providers.suppressions import list_suppressions, supports_suppression_lists
    from digiweetjes.subscribers.provider_sync import apply_provider_suppressions

    settings = load_settings()
    clock = SystemClock()
    provider = get_provider(settings, clock)
    try:
        if not supports_suppression_lists(provider):
            click.echo(f"De maildienst {settings.provider!r} houdt geen eigen blokkeerlijst "
                       "bij: er is niets te synchroniseren.")
            return
        try:
            listing = list_suppressions(provider)  # type: ignore[arg-type]
        except ProviderError as exc:
            fail(describe_provider_error(settings.provider, exc))
    finally:
        provider.close()
    database = open_database(settings.database_url)
    try:
        with database.session() as session:
            report = apply_provider_suppressions(session, clock, settings, listing)
            if dry_run:
                raise _DryRun(report)
    except _DryRun as done:
        report = done.report  # type: ignore[assignment]
    finally:
        database.dispose()
    for line in report_lines(report, listing.lists, dry_run=dry_run):
        click.echo(line)


def report_lines(report: object, lists: tuple[str, ...], *, dry_run: bool) -> list[str]:
    """The Dutch summary of one sync."""
    from digiweetjes.subscribers.provider_sync import SyncReport

    assert isinstance(report, SyncReport)
    lines = [f"Suppressielijsten van {report.provider} gelezen ({', '.join(lists)}; "
             f"{report.requests} {'verzoek' if report.requests == 1 else 'verzoeken'})."]
    for kind, label in KIND_LABELS.items():
        count = report.counts[kind]
        line = f"  {label + ':':<13}{count.new:>6} nieuw, {count.known:>6} al bekend"
        if count.invalid:
            line += f", {count.invalid} ongeldig adres" + ("sen" if count.invalid > 1 else "")
        lines.append(line)
    for detail, number in sorted(report.skipped.items()):
        lines.append(f"  niet overgenomen (niet door de ontvanger zelf): {number} × {detail}")
    known = sum(count.known for count in report.counts.values())
    if dry_run:
        lines.append(f"Proefdraai: {report.new} adressen zouden nieuw op de blokkeerlijst "
                     "komen; er is niets opgeslagen.")
    elif report.new:
        lines.append(f"{report.new} adressen nieuw op de blokkeerlijst; {report.opted_out} "
                     "ingeschrevenen daarvan staan niet meer op de lijst (elk met een regel in "
                     "het toestemmingsregister), de andere waren onbekend en zijn enkel als "
                     "hash geblokkeerd.")
    else:
        lines.append(f"Niets nieuws: alle {known} adressen waren al bekend; de databank is niet "
                     "gewijzigd.")
    return lines


def describe_provider_error(provider: str, exc: ProviderError) -> str:
    """What went wrong at the provider, in Dutch, and what to do about it."""
    status = exc.status_code
    if status in (401, 403):
        message = (f"{provider} weigerde de sleutel (HTTP {status}): controleer "
                   f"{CREDENTIALS.get(provider, 'DIGIWEETJES_PROVIDER_API_KEY')}.")
        if provider == "resend" and status == 403:
            message += (" De Suppressions-API van Resend is nog in private beta: vraag er "
                        "toegang toe aan bij Resend.")
    elif status == 404:
        message = (f"{provider} kent dit adres van de lijst niet (HTTP 404): controleer "
                   "DIGIWEETJES_PROVIDER_BASE_URL"
                   + (" en DIGIWEETJES_PROVIDER_DOMAIN" if provider == "mailgun" else "")
                   + (" en DIGIWEETJES_PROVIDER_MESSAGE_STREAM" if provider == "postmark"
                      else "") + ".")
    elif status == 429:
        message = (f"{provider} vraagt om minder verzoeken (HTTP 429): probeer het over enkele "
                   "minuten opnieuw.")
    elif status is not None and status >= 500:
        message = f"{provider} heeft een storing (HTTP {status}): probeer het later opnieuw."
    elif status is None:
        message = (f"{provider} is niet bereikbaar of gaf een onverwacht antwoord ({exc}): "
                   "controleer de netwerkverbinding en DIGIWEETJES_PROVIDER_BASE_URL.")
    else:
        message = f"{provider} weigerde de vraag (HTTP {status}): {exc}"
    return message + " Er is niets gewijzigd in de databank."
