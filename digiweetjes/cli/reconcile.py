"""CLI: ``digiweetjes reconcile ISSUE``, the uncertain deliveries of a campaign looked up at the
provider (``sending.reconcile``), with what moved in Dutch."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this area's command to the top-level group."""
    cli.add_command(reconcile_command)


@click.command("reconcile")
@click.argument("issue", metavar="NUMMER")
def reconcile_command(issue: str) -> None:
    """De onzekere berichten van NUMMER opzoeken bij de maildienst: toch verstuurd, terug in de
    wachtrij, of nog onzeker met de reden."""
    from datetime import timedelta

    from digiweetjes.cli.common import load_settings
    from digiweetjes.clock import SystemClock
    from digiweetjes.db import open_database
    from digiweetjes.errors import SendingError, SendingIncomplete
    from digiweetjes.providers.registry import get_provider
    from digiweetjes.sending import campaigns, service
    from digiweetjes.sending.reconcile import reconcile

    settings = load_settings()
    issue_id = service.issue_id_of(settings, issue)
    clock = SystemClock()
    db = open_database(settings.database_url)
    try:
        campaign = campaigns.get_campaign(db, issue_id)
        if campaign is None:
            raise SendingError(f"nummer {issue_id} werd nog niet naar de lijst verstuurd: er "
                               "is niets af te stemmen")
        provider = get_provider(settings, clock)
        try:
            if campaign.provider != provider.name:
                raise SendingError(
                    f"nummer {issue_id} werd verstuurd met {campaign.provider}, niet met "
                    f"{provider.name}: zet DIGIWEETJES_PROVIDER terug op {campaign.provider}")
            report = reconcile(db, provider, campaign, clock, settle=timedelta(
                seconds=settings.send.reconcile_settle_seconds))
        finally:
            provider.close()
    finally:
        db.dispose()
    click.echo(f"Afgestemd met {campaign.provider}: {report.checked} onzekere berichten "
               f"bekeken.")
    click.echo(f"  {report.sent:>7} toch verstuurd (gevonden bij de maildienst)")
    click.echo(f"  {report.requeued:>7} niet aangekomen: terug in de wachtrij")
    click.echo(f"  {report.uncertain:>7} nog onzeker")
    for reason, count in report.reasons.most_common(10):
        click.echo(f"  {count:>7} × {reason}")
    if report.requeued:
        click.echo(f"Verstuur ze met `digiweetjes send {issue_id}`.")
    if report.stopped:
        raise SendingError(report.stopped)
    if report.uncertain:
        raise SendingIncomplete(
            f"{report.uncertain} berichten blijven onzeker: probeer later opnieuw "
            f"`digiweetjes reconcile {issue_id}`, of verstuur ze met --include-uncertain als "
            "een tweede exemplaar geen kwaad kan.")
