"""CLI commands of the web archive area (build, preview)."""

from __future__ import annotations

import click

from digiweetjes.cli.common import load_settings


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
    cli.add_command(build)
    cli.add_command(preview)


@click.command()
@click.option("--drafts", "include_drafts", is_flag=True,
              help="Publiceer ook de edities die nog niet verstuurd zijn, gemarkeerd als concept.")
def build(include_drafts: bool) -> None:
    """Bouw het webarchief in site/ (verstuurde edities, overzicht, feed, projectoproepen).

    Elke editie die gepubliceerd zou worden, moet `digiweetjes check` halen; anders wordt
    niets gepubliceerd en blijft site/ zoals het was."""
    from digiweetjes.site import build_site

    settings = load_settings()
    report = build_site(settings, include_drafts=include_drafts)
    click.echo(f"{len(report.files)} bestanden gebouwd in {report.site_dir}")
    click.echo(f"  gepubliceerde edities: {len(report.published)}")
    if report.concepts:
        click.echo(f"  concepten (--drafts): {len(report.concepts)}: {', '.join(report.concepts)}")
    for name, reason in report.skipped:
        click.echo(f"  overgeslagen: {name}: {reason}")
    click.echo(f"Open {report.index_path} in je browser")


@click.command()
@click.argument("issue", metavar="NUMMER")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Poort waarop het voorbeeld luistert.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Adres waarop het voorbeeld luistert (standaard alleen deze computer: het "
                   "voorbeeld is alleen voor de redactie).")
def preview(issue: str, port: int, host: str) -> None:
    """Toon een levend voorbeeld van NUMMER (pad, bestandsnaam, id of nummer) op 800 en 375 px
    breed; het ververst zodra je de draft bewaart."""
    import uvicorn

    from digiweetjes.content.source import resolve_draft
    from digiweetjes.site.preview import create_preview_app

    settings = load_settings()
    path = resolve_draft(settings.issues_dir, issue)
    app = create_preview_app(settings, path)
    rendered = app.state.renderer.current()
    if rendered.errors:
        click.echo(f"Let op: het voorbeeld toont nu een foutpagina ({len(rendered.errors)} "
                   "fout(en) in de inhoud).", err=True)
    for problem in rendered.problems:
        click.echo(f"  waarschuwing: {problem}", err=True)
    if rendered.summary:
        click.echo(f"{rendered.summary} (details op de voorbeeldpagina)", err=True)
    click.echo(f"Voorbeeld van {path} op http://{host}:{port}/ (stoppen met Ctrl+C)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
