"""Editor commands: new, render, check, drafts."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

import click

from digiweetjes.cli.common import SubregionChoice, load_settings
from digiweetjes.content.drafts import scaffold
from digiweetjes.content.source import (
    plan_new_issue,
    read_each_draft,
    read_issue,
    resolve_draft,
)
from digiweetjes.errors import CheckFailed, ContentError, ContentErrors, OutputError
from digiweetjes.files import write_atomically
from digiweetjes.links import preferences_url, unsubscribe_url
from digiweetjes.render import RecipientData, compile_issue, personalize
from digiweetjes.render.formatting import long_date
from digiweetjes.render.gate import CheckReport, check_issue, check_source

#: ``render --subregion alle``: one file per subregion.
EVERY_SUBREGION = "alle"


class _SubregionOrAll(SubregionChoice):
    """A subregion id of projects.yaml, or ``alle``."""

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        return (*super().choices, EVERY_SUBREGION)


def slugify(title: str) -> str:
    """A file-name slug: lower case ASCII words joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:60].rstrip("-") or "digi-weetje"


@click.command("new")
@click.argument("title", metavar="TITEL")
@click.option("--date", "issue_date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              metavar="JJJJ-MM-DD",
              help="Datum van de editie (standaard: vandaag, maar nooit vóór het laatste "
                   "Digi-weetje).")
@click.option("--number", type=click.IntRange(min=1), default=None, metavar="NUMMER",
              help="Nummer van de editie (standaard: één meer dan het hoogste nummer).")
def new_command(title: str, issue_date, number: int | None) -> None:
    """Maak een nieuwe draft in issues/ met TITEL als titel."""
    settings = load_settings()
    if "\n" in title or "\r" in title or '"' in title:
        raise ContentError("de titel moet op één regel staan, zonder dubbele aanhalingstekens",
                           field="title")
    plan = plan_new_issue(settings.issues_dir, date.today(), number=number,
                          day=issue_date.date() if issue_date else None)
    path = settings.issues_dir / f"{plan.date.isoformat()}-{slugify(title)}.md"
    if path.exists():
        raise ContentError("er bestaat al een draft met deze datum en titel", path=str(path))
    write_atomically(path, scaffold(title, plan.number, plan.date))
    click.echo(f"Nieuwe draft: {path}")
    click.echo(f"  nummer {plan.number}: {plan.number_reason}")
    click.echo(f"  datum {long_date(plan.date)}: {plan.date_reason}")
    click.echo(f"Volgende stap: schrijf de tekst, bekijk hem met `digiweetjes preview "
               f"{path.name}` en controleer hem met `digiweetjes check {path.name}`.")


@click.command("render")
@click.argument("issue", metavar="NUMMER")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Map voor de bestanden (standaard: rendered/).")
@click.option("--name", default="Voorbeeld Lezer", show_default=True,
              help="Naam van de voorbeeldlezer in de aanhef.")
@click.option("--subregion", type=_SubregionOrAll(), default=None,
              help="Digibank-subregio van de voorbeeldlezer (standaard: geen, dan staan alle "
                   "Digibanken erin); 'alle' schrijft één bestand per subregio.")
def render_command(issue: str, out_dir: Path | None, name: str, subregion: str | None) -> None:
    """Zet NUMMER (pad, bestandsnaam of nummer) om naar een HTML- en een tekstbestand."""
    settings = load_settings()
    source = read_issue(settings.issues_dir, issue)
    draft, compiled = source.draft, compile_issue(source, settings)
    out = out_dir or settings.root / "rendered"
    if out.exists() and not out.is_dir():  # e.g. /dev/full: click only refuses regular files
        raise OutputError(f"{out} is geen map: kies met --out een map voor de bestanden")
    out.mkdir(parents=True, exist_ok=True)
    if subregion == EVERY_SUBREGION:
        targets = [(s.id, f"{draft.issue_id}-{s.id}") for s in source.projects.region.subregions]
    elif subregion:
        targets = [(subregion, f"{draft.issue_id}-{subregion}")]
    else:
        targets = [(None, draft.issue_id)]
    for target, stem in targets:
        message = personalize(compiled, RecipientData(
            email="voorbeeld@example.org", name=name, subregion=target,
            unsubscribe_url=unsubscribe_url(settings, "VOORBEELD"),
            preferences_url=preferences_url(settings, "VOORBEELD")))
        html_path, text_path = out / f"{stem}.html", out / f"{stem}.txt"
        write_atomically(html_path, message.html)
        write_atomically(text_path, message.text)
        what = f" (subregio {target})" if target else ""
        click.echo(f"Geschreven: {html_path} ({len(message.html.encode()) / 1024:.1f} KB){what}")
        click.echo(f"Geschreven: {text_path}{what}")
    echo_warnings(check_source(source, compiled, settings), "render")


def echo_warnings(report: CheckReport, command: str) -> None:
    """The gate's problems as warnings of a command that still goes on (render)."""
    if report.problems:
        click.echo(f"Let op: deze editie haalt `digiweetjes check` niet ({len(report.problems)} "
                   f"{'probleem' if len(report.problems) == 1 else 'problemen'}); {command} ging "
                   "toch door:", err=True)
        for problem in report.problems:
            click.echo(f"  waarschuwing: {problem}", err=True)
    if report.summary:
        click.echo(f"{report.summary} (details: digiweetjes check)", err=True)


@click.command("check")
@click.argument("issue", metavar="NUMMER")
def check_command(issue: str) -> None:
    """Controle vóór verzending van NUMMER: één regel per probleem, exitcode niet 0 als er
    problemen zijn. Waarschuwingen over taal (B1) weigeren niets."""
    settings = load_settings()
    report = check_issue(resolve_draft(settings.issues_dir, issue), settings)
    for warning in report.warnings:
        click.echo(f"waarschuwing: {warning}")
    if report.summary:
        click.echo(report.summary)
    if not report.ok:
        raise CheckFailed(report.problems)
    click.echo(f"{report.issue}: in orde (HTML {report.html_bytes / 1024:.1f} KB; taal, "
               "alt-teksten, titels, links, grootte, tekstversie en invulvelden nagekeken)")


@click.command("drafts")
def drafts_command() -> None:
    """Toon de drafts in issues/ met nummer, datum, status en of ze laden."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    settings = load_settings()
    drafts = read_each_draft(settings.issues_dir)
    table = Table(title=Text(f"Drafts in {settings.issues_dir}"))
    for column in ("bestand", "nr.", "datum", "status", "titel", "problemen"):
        table.add_column(column)
    for path, draft in drafts:
        if isinstance(draft, ContentError):
            count = len(draft.errors) if isinstance(draft, ContentErrors) else 1
            table.add_row(*map(Text, (path.name, "", "", "", "",
                                      f"{count} (zie digiweetjes check)")))
            continue
        meta = draft.meta
        # Shown literally: a [ in a title or file name is text, not Rich markup.
        table.add_row(*map(Text, (path.name, str(meta.number), long_date(meta.date),
                                  meta.status, meta.title, "geen")))
    Console().print(table)


def register(cli: click.Group) -> None:
    """Add the editor commands."""
    for command in (new_command, render_command, check_command, drafts_command):
        cli.add_command(command)
