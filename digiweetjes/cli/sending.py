"""CLI commands of the sending area."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the commands import lazily, so `digiweetjes --help` starts fast
    from digiweetjes.config import Settings
    from digiweetjes.content.drafts import Draft
    from digiweetjes.db import Database
    from digiweetjes.render import CompiledIssue
    from digiweetjes.sending.options import SendOptions
    from digiweetjes.sending.service import SendOutcome


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
    cli.add_command(fake_provider_command)
    cli.add_command(send_command)
    cli.add_command(status_command)


# -- fake-provider: a local stand-in for the six mail providers (tests, benchmarks, demos) --


@click.command("fake-provider")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Loopback-adres om op te luisteren (enkel loopback).")
@click.option("--port", default=8025, show_default=True, type=int,
              help="Poort; 0 kiest een vrije.")
@click.option("--latency-ms", default=0.0, show_default=True, type=float,
              help="Vaste vertraging op elk verzoek.")
@click.option("--error-5xx-rate", default=0.0, type=float,
              help="Aandeel verzoeken dat een 5xx-antwoord krijgt.")
@click.option("--rate-limit-rate", default=0.0, type=float,
              help="Aandeel verzoeken dat 429 krijgt, met de wachttijd van de maildienst.")
@click.option("--timeout-rate", default=0.0, type=float,
              help="Aandeel verzoeken dat aanvaard wordt en dan geen antwoord krijgt.")
@click.option("--drop-rate", default=0.0, type=float,
              help="Aandeel verzoeken dat aanvaard en dan zonder antwoord gesloten wordt.")
@click.option("--reject-pattern", default=None, metavar="REGEX",
              help="Ontvangers die hierop passen weigeren.")
@click.option("--seed", default=None, type=int, help="Startwaarde van de toevallige fouten.")
@click.option("--keep-bodies", is_flag=True,
              help="Bewaren wat elke ontvanger zou lezen (het geheugen groeit).")
@click.option("--record", "record", metavar="BESTAND",
              type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Elk bericht toevoegen aan dit JSONL-bestand.")
def fake_provider_command(host: str, port: int, latency_ms: float, error_5xx_rate: float,
                          rate_limit_rate: float, timeout_rate: float, drop_rate: float,
                          reject_pattern: str | None, seed: int | None, keep_bodies: bool,
                          record: Path | None) -> None:
    """Een nagebootste maildienst (de API's van de zes diensten) op loopback, voor tests en
    demo's (bediening onder /_fake/)."""
    from digiweetjes.devtools.fake_provider import LISTENING, FakeProviderServer, Faults

    faults = Faults(seed=seed, latency_ms=latency_ms, error_5xx_rate=error_5xx_rate,
                    rate_limit_rate=rate_limit_rate, timeout_after_rate=timeout_rate,
                    drop_after_rate=drop_rate, reject_pattern=reject_pattern,
                    keep_bodies=keep_bodies)
    try:
        server = FakeProviderServer(host, port, faults=faults, record_path=record)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--host") from exc
    click.echo(f"{LISTENING}{server.url}")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


# -- send and status: the delivery ledger ----------------------------------------------------


@click.command("send")
@click.argument("issue", metavar="NUMMER")
@click.option("--yes", is_flag=True, help="Niet om bevestiging vragen (scripts).")
@click.option("--to", "to_addresses", metavar="ADRES", multiple=True,
              help="Enkel een testmail naar ADRES sturen (mag meermaals, of gescheiden door "
                   "komma's; hoogstens 5), elk met eigen links; de verzendlijst blijft "
                   "onaangeroerd.")
@click.option("--dry-run", is_flag=True,
              help="Tonen hoeveel ontvangers en pakketten; niets versturen.")
@click.option("--retry-failed", is_flag=True, help="Mislukte berichten opnieuw versturen.")
@click.option("--include-uncertain", is_flag=True,
              help="Onzekere berichten opnieuw versturen (ze kunnen dan twee keer aankomen).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="Gelijktijdige verzoeken (standaard: DIGIWEETJES_SEND_CONCURRENCY of 4).")
@click.option("--processes", type=click.IntRange(1, 16), default=None,
              help="Verzendprocessen (standaard: DIGIWEETJES_SEND_PROCESSES of 1).")
def send_command(issue: str, yes: bool, to_addresses: tuple[str, ...], dry_run: bool,
                 retry_failed: bool, include_uncertain: bool, concurrency: int | None,
                 processes: int | None) -> None:
    """NUMMER naar zijn ontvangers versturen (hervat een gepauzeerde of onderbroken
    verzending)."""
    from digiweetjes.cli.common import confirm, load_settings, overrides
    from digiweetjes.cli.progress import ProgressBar
    from digiweetjes.cli.sending_text import confirmation_question
    from digiweetjes.clock import SystemClock
    from digiweetjes.db import open_database
    from digiweetjes.providers.registry import get_provider
    from digiweetjes.sending import service

    settings = load_settings()
    options = overrides(settings.send, concurrency=concurrency, processes=processes)
    draft, compiled = service.load_issue(settings, issue)
    if to_addresses:
        addresses = [part.strip() for value in to_addresses for part in value.split(",")]
        return _test_send(settings, compiled, addresses, draft)
    clock = SystemClock()
    db = open_database(settings.database_url)
    try:
        if dry_run:
            _dry_run(db, compiled, settings, options, retry_failed, include_uncertain)
            return None
        outcome = service.send_issue(
            draft, compiled, db=db, settings=settings, clock=clock,
            provider_factory=lambda: get_provider(settings, clock), options=options,
            confirm=lambda plan: yes or confirm(confirmation_question(plan)),
            progress=ProgressBar(f"Versturen {compiled.issue_id}"),
            retry_failed=retry_failed, include_uncertain=include_uncertain)
        _report(db, outcome)
    finally:
        db.dispose()
    return None


def _report(db: Database, outcome: SendOutcome) -> None:
    """What a send did, for the person who ran it: exit 0 only for a clean send; a pause, or
    failed or uncertain deliveries, are a non-zero exit with what to do."""
    from digiweetjes.cli.sending_text import incomplete_sentence, summary_lines
    from digiweetjes.errors import SendingIncomplete, SendingPaused

    issue_id = outcome.plan.issue_id
    if outcome.declined:
        click.echo("Niets verstuurd.")
    elif outcome.summary is None:
        _echo(_status(db, issue_id, limit=5))
        click.echo(f"Nummer {issue_id} is al volledig verstuurd: niets meer te doen.")
    else:
        if outcome.created:
            click.echo(f"Ontvangers vastgelegd: {outcome.plan.audience}.")
        _echo(summary_lines(outcome.summary))
        if outcome.summary.paused_reason:
            raise SendingPaused(f"verzending van {issue_id} gepauzeerd: "
                                f"{outcome.summary.paused_reason}")
    if not outcome.declined:
        sentence = incomplete_sentence(issue_id, outcome.counts)
        if sentence:
            raise SendingIncomplete(sentence)


def _test_send(settings: Settings, compiled: CompiledIssue, addresses: list[str],
               draft: Draft) -> None:
    from digiweetjes.clock import SystemClock
    from digiweetjes.providers.registry import get_provider
    from digiweetjes.sending import service

    clock = SystemClock()
    # Every address is checked before a provider is even built.
    emails = service.test_addresses(addresses)
    provider = get_provider(settings, clock)
    try:
        results = service.test_send_many(provider, compiled, settings, emails, draft=draft,
                                         clock=clock)
    finally:
        provider.close()
    for email, result in zip(emails, results, strict=True):
        click.echo(f"Testmail van {compiled.issue_id} verstuurd naar {email} via "
                   f"{provider.name} (bericht-id {result.message_id or 'niet gekregen'}); "
                   "de verzendlijst blijft onaangeroerd.")


def _dry_run(db: Database, compiled: CompiledIssue, settings: Settings, options: SendOptions,
             retry_failed: bool, include_uncertain: bool) -> None:
    from digiweetjes.cli.sending_text import plan_lines
    from digiweetjes.clock import SystemClock
    from digiweetjes.providers.registry import get_provider
    from digiweetjes.sending import service

    provider = get_provider(settings, SystemClock())
    try:
        plan = service.plan(db, compiled, provider, batch_size=options.batch_size,
                            retry_failed=retry_failed, include_uncertain=include_uncertain)
    finally:
        provider.close()
    _echo(plan_lines(plan))
    click.echo("Proefdraai: er is niets verstuurd of opgeslagen.")


def _status(db: Database, issue_id: str, *, limit: int) -> list[str]:
    from digiweetjes.cli.sending_text import status_lines
    from digiweetjes.sending import service

    return status_lines(issue_id, service.campaign_status(db, issue_id, limit=limit))


def _echo(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


@click.command("status")
@click.argument("issue", metavar="NUMMER")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(0, 100_000),
              help="Zoveel berichten tonen per toestand.")
def status_command(issue: str, limit: int) -> None:
    """De berichten van NUMMER per toestand, en wat mislukte met de reden."""
    from digiweetjes.cli.common import load_settings
    from digiweetjes.db import open_database
    from digiweetjes.sending import service

    settings = load_settings()
    issue_id = service.issue_id_of(settings, issue)
    db = open_database(settings.database_url)
    try:
        _echo(_status(db, issue_id, limit=limit))
    finally:
        db.dispose()
