"""Release commands: approve, schedule, unschedule, jobs (Dutch output, Brussels time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from digiweetjes.cli.common import load_settings

if TYPE_CHECKING:
    from digiweetjes.clock import Clock
    from digiweetjes.config import Settings
    from digiweetjes.db import Database
    from digiweetjes.release import UpcomingSend


@contextmanager
def _release_context() -> Iterator[tuple[Settings, Database, Clock]]:
    from digiweetjes.clock import SystemClock
    from digiweetjes.db import open_database

    settings = load_settings()
    db = open_database(settings.database_url)
    try:
        yield settings, db, SystemClock()
    finally:
        db.dispose()


@click.command("approve")
@click.argument("issue", metavar="NUMMER")
@click.option("--by", "by", required=True, metavar="NAAM",
              help="Wie goedkeurt (wordt bewaard).")
def approve_command(issue: str, by: str) -> None:
    """De huidige inhoud van NUMMER goedkeuren (het moet door `check` raken); een send_at in
    de front matter plant het meteen in."""
    from digiweetjes.release import approve
    from digiweetjes.release.wording import moment

    with _release_context() as (settings, db, clock):
        approval = approve(db, settings, clock, issue, by=by)
    click.echo(f"{approval.issue_id}: goedgekeurd door {approval.approved_by} op "
               f"{moment(approval.approved_at)} (inhoud {approval.content_hash[:12]}).")
    if approval.scheduled_at is not None:
        click.echo(f"Ingepland volgens send_at in de front matter: "
                   f"{moment(approval.scheduled_at)}.")
    elif approval.schedule_note:
        click.echo(approval.schedule_note + ".")
    click.echo("Wie de editie, de sjablonen of projects.yaml nog wijzigt, maakt deze "
               "goedkeuring ongeldig.")


@click.command("schedule")
@click.argument("issue", metavar="NUMMER")
@click.option("--at", "at", required=True, metavar="\"JJJJ-MM-DD UU:MM\"",
              help="Wanneer versturen, Brusselse tijd (bv. \"2026-12-08 09:00\").")
def schedule_command(issue: str, at: str) -> None:
    """Het goedgekeurde NUMMER inplannen op een tijdstip (Brusselse tijd)."""
    from digiweetjes.release import schedule_issue
    from digiweetjes.release.approval import resolve_issue_id
    from digiweetjes.release.localtime import brussels_moment
    from digiweetjes.release.wording import moment

    when = brussels_moment(at)
    with _release_context() as (settings, db, clock):
        release = schedule_issue(db, settings, clock, resolve_issue_id(settings, issue), when)
    assert release.send_at is not None
    click.echo(f"{release.issue_id}: ingepland op {moment(release.send_at)}.")


@click.command("unschedule")
@click.argument("issue", metavar="NUMMER")
@click.option("--cancel", "cancel_it", is_flag=True,
              help="Het nummer annuleren: niet versturen tot het opnieuw goedgekeurd is.")
def unschedule_command(issue: str, cancel_it: bool) -> None:
    """NUMMER niet meer inplannen (het blijft goedgekeurd), of annuleren met --cancel."""
    from digiweetjes.release import cancel, unschedule
    from digiweetjes.release.approval import resolve_issue_id

    with _release_context() as (settings, db, clock):
        issue_id = resolve_issue_id(settings, issue)
        if cancel_it:
            cancel(db, clock, issue_id)
            click.echo(f"{issue_id}: geannuleerd; het wordt niet verstuurd tot het opnieuw "
                       "goedgekeurd is.")
        else:
            unschedule(db, clock, issue_id)
            click.echo(f"{issue_id}: niet meer ingepland; het blijft goedgekeurd.")


@click.command("jobs")
def jobs_command() -> None:
    """De komende verzendingen: wanneer, welk nummer, hoeveel ontvangers, goedgekeurd door wie."""
    from digiweetjes.release import upcoming

    with _release_context() as (settings, db, clock):
        jobs = upcoming(db, settings, clock)
    if not jobs:
        click.echo("Geen geplande of goedgekeurde edities.")
        return
    for line in jobs_lines(jobs):
        click.echo(line)


def jobs_lines(jobs: list[UpcomingSend]) -> list[str]:
    """The ``jobs`` listing, one block per issue."""
    from digiweetjes.release.wording import STATE_WORDS, moment

    lines: list[str] = []
    for job in jobs:
        when = moment(job.send_at) if job.send_at else "geen tijdstip"
        audience = f"{job.audience} ontvangers" if job.audience is not None else "? ontvangers"
        approval = (f"goedgekeurd door {job.approved_by} op {moment(job.approved_at)}"
                    if job.approved_by and job.approved_at else "niet goedgekeurd")
        lines.append(f"{when}  {job.issue_id}  ({STATE_WORDS[job.state]})")
        lines.append(f"    {job.subject} · {audience} · {approval}")
        lines.append("    " + (f"wordt NIET verstuurd: {job.problem}" if job.problem
                               else "klaar om te versturen"))
    return lines


def register(cli: click.Group) -> None:
    """Add the release commands."""
    for command in (approve_command, schedule_command, unschedule_command, jobs_command):
        cli.add_command(command)
