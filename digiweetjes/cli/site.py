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
              help="Also publish the issues not sent yet, marked as concept.")
def build(include_drafts: bool) -> None:
    """Build the static web archive into site/ (sent issues, index, feed, project calls)."""
    from digiweetjes.site import build_site

    settings = load_settings()
    report = build_site(settings, include_drafts=include_drafts)
    click.echo(f"Built {len(report.files)} files into {report.site_dir}")
    click.echo(f"  published issues: {len(report.published)}")
    if report.concepts:
        click.echo(f"  concepts (--drafts): {len(report.concepts)}: {', '.join(report.concepts)}")
    for name, reason in report.skipped:
        click.echo(f"  skipped {name}: {reason}")
    click.echo(f"Open {report.index_path}")


@click.command()
@click.argument("issue")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind (loopback by default: the preview is for the editor only).")
def preview(issue: str, port: int, host: str) -> None:
    """Serve a live preview of ISSUE (path, file name, id or number) at 800 and 375 px."""
    import uvicorn

    from digiweetjes.content.source import resolve_draft
    from digiweetjes.site.preview import create_preview_app

    settings = load_settings()
    path = resolve_draft(settings.issues_dir, issue)
    app = create_preview_app(settings, path)
    click.echo(f"Previewing {path} at http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
