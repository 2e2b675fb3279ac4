"""Editor commands: new, render, check."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

import click

from digiweetjes.cli.common import SubregionChoice, load_settings
from digiweetjes.content.source import (
    next_draft_number,
    read_each_draft,
    read_issue,
    resolve_draft,
)
from digiweetjes.errors import CheckFailed, ContentError, ContentErrors
from digiweetjes.links import preferences_url, unsubscribe_url
from digiweetjes.render import RecipientData, compile_issue, personalize
from digiweetjes.render.gate import check_issue

DRAFT_TEMPLATE = """\
---
title: "{title}"
number: {number}
date: {date}
preheader: Eén zin die in de inbox naast de titel verschijnt.
featured: []
status: draft
---
## Inleiding

Schrijf hier de inleiding van deze Digi-weetje. Gebruik `##` voor tussentitels,
geef elke afbeelding een beschrijving (`![wat er te zien is](https://...)`) en
schrijf linkteksten die zeggen waar de link naartoe gaat.
"""


def slugify(title: str) -> str:
    """A file-name slug: lower case ASCII words joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:60].rstrip("-") or "digi-weetje"


@click.command("new")
@click.argument("title")
@click.option("--date", "issue_date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Issue date (default: today).")
@click.option("--number", type=click.IntRange(min=1), default=None,
              help="Issue number (default: one more than the highest draft).")
def new_command(title: str, issue_date, number: int | None) -> None:
    """Scaffold a new draft in issues/ from TITLE."""
    settings = load_settings()
    if "\n" in title or "\r" in title or '"' in title:
        raise ContentError("the title must be one line without double quotes", field="title")
    day = issue_date.date() if issue_date else date.today()
    path = settings.issues_dir / f"{day.isoformat()}-{slugify(title)}.md"
    if path.exists():
        raise ContentError("a draft with this date and title exists already", path=str(path))
    path.write_text(DRAFT_TEMPLATE.format(title=title, date=day.isoformat(),
                                          number=number or next_draft_number(settings.issues_dir)),
                    encoding="utf-8")
    click.echo(f"Created {path}")
    click.echo(f"Next: edit it, then `digiweetjes preview {path.name}` and "
               f"`digiweetjes check {path.name}`.")


@click.command("render")
@click.argument("issue")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Output folder (default: rendered/).")
@click.option("--name", default="Voorbeeld Lezer", show_default=True,
              help="Recipient name to personalize the sample with.")
@click.option("--subregion", type=SubregionChoice(), default=None,
              help="Digibank subregion of the sample recipient (default: none).")
def render_command(issue: str, out_dir: Path | None, name: str, subregion: str | None) -> None:
    """Render ISSUE (path, file name or number) to HTML and text files."""
    settings = load_settings()
    source = read_issue(settings.issues_dir, issue)
    draft, compiled = source.draft, compile_issue(source, settings)
    out = out_dir or settings.root / "rendered"
    out.mkdir(parents=True, exist_ok=True)
    message = personalize(compiled, RecipientData(
        email="voorbeeld@example.org", name=name, subregion=subregion,
        unsubscribe_url=unsubscribe_url(settings, "VOORBEELD"),
        preferences_url=preferences_url(settings, "VOORBEELD")))
    html_path = out / f"{draft.issue_id}.html"
    text_path = out / f"{draft.issue_id}.txt"
    html_path.write_text(message.html, encoding="utf-8")
    text_path.write_text(message.text, encoding="utf-8")
    click.echo(f"Wrote {html_path} ({len(message.html.encode()) / 1024:.1f} KB)")
    click.echo(f"Wrote {text_path}")


@click.command("check")
@click.argument("issue")
def check_command(issue: str) -> None:
    """Release gate for ISSUE: one line per problem, non-zero exit if any."""
    settings = load_settings()
    report = check_issue(resolve_draft(settings.issues_dir, issue), settings)
    if not report.ok:
        raise CheckFailed(report.problems)
    click.echo(f"{report.issue}: OK (HTML {report.html_bytes / 1024:.1f} KB, "
               "lang, alt texts, headings, links, size, text part and placeholders checked)")


@click.command("drafts")
def drafts_command() -> None:
    """List the drafts in issues/ with number, date, status and whether they load."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from digiweetjes.render.formatting import long_date

    settings = load_settings()
    drafts = read_each_draft(settings.issues_dir)
    table = Table(title=f"Drafts in {settings.issues_dir}")
    for column in ("file", "nr.", "date", "status", "title", "problems"):
        table.add_column(column)
    for path, draft in drafts:
        if isinstance(draft, ContentError):
            count = len(draft.errors) if isinstance(draft, ContentErrors) else 1
            table.add_row(escape(path.name), "", "", "", "", f"{count} (run check)")
            continue
        meta = draft.meta
        # Titles are the editors' text, not Rich markup: "[/b]" in one must print as written.
        table.add_row(escape(path.name), str(meta.number), long_date(meta.date), meta.status,
                      escape(meta.title), "none")
    Console().print(table)


def register(cli: click.Group) -> None:
    """Add the editor commands."""
    for command in (new_command, render_command, check_command, drafts_command):
        cli.add_command(command)
