"""``digiweetjes serve``: the web app (public pages, webhooks, archive) under uvicorn."""

from __future__ import annotations

import click

from digiweetjes.cli.common import fail, load_settings


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
    cli.add_command(serve)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Adres waarop de webapp luistert (achter een reverse proxy: 127.0.0.1).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Poort van de webapp.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Aantal processen.")
@click.option("--build/--no-build", default=True, show_default=True,
              help="Bouw eerst het archief (site/) opnieuw.")
def serve(host: str, port: int, workers: int, build: bool) -> None:
    """Start de webapp: inschrijven, bevestigen, voorkeuren, uitschrijven, webhooks en archief."""
    from digiweetjes.db import open_database
    from digiweetjes.web.workers import run_workers

    settings = load_settings()
    settings.require_secret_key()
    from digiweetjes.web.public.privacy import notice_template

    notice_template(settings)  # a privacy notice version without a text: say so before starting
    database = open_database(settings.database_url)  # refuses an unmigrated database now
    database.dispose()
    if build:
        from digiweetjes.site import build_site

        report = build_site(settings)
        click.echo(f"Archief gebouwd in {report.site_dir}: {len(report.published)} "
                   f"verschenen nummer(s).")
    click.echo(f"Webapp op http://{host}:{port}/ (stoppen met Ctrl-C)")
    try:
        status = run_workers(
            workers, app="digiweetjes.web.entry:app_from_env", factory=True, host=host,
            port=port, proxy_headers=True, server_header=False,
            # The access log would write every link token (one unsubscribes someone).
            access_log=False, log_level="warning")
    except OSError as exc:
        fail(f"de webapp kan niet starten op {host}:{port}: {exc.strerror or exc}")
    if status:
        fail("de webapp stopte: de processen bleven meteen na hun start stoppen "
             "(zie hun foutmeldingen hierboven)")
