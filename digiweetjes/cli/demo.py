"""``digiweetjes demo``: build a working demo from scratch, one step after another.

Each area appends its step to ``DEMO_STEPS``: a title and a function of the settings that does
the work and returns a line to print. Steps run in list order.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from digiweetjes.cli.common import load_settings
from digiweetjes.config import Settings
from digiweetjes.files import write_atomically

SAMPLE_ISSUE = "2026-12-05-overzicht-projectoproepen.md"
#: The subregion of the sample reader the demo renders the issue for (its name comes from the
#: region data).
SAMPLE_SUBREGION = "west"


def _step_check_sample_issue(settings: Settings) -> str:
    from digiweetjes.errors import CheckFailed
    from digiweetjes.render.gate import check_issue

    report = check_issue(settings.issues_dir / SAMPLE_ISSUE, settings)
    if not report.ok:
        raise CheckFailed(report.problems)
    return f"{report.issue} passes the release gate (HTML {report.html_bytes / 1024:.1f} KB)"


def _step_render_sample_issue(settings: Settings) -> str:
    from digiweetjes.content.source import read_issue
    from digiweetjes.links import preferences_url, unsubscribe_url
    from digiweetjes.render import RecipientData, compile_issue, personalize

    source = read_issue(settings.issues_dir, settings.issues_dir / SAMPLE_ISSUE)
    draft, compiled = source.draft, compile_issue(source, settings)
    reader_in = source.projects.region.subregion(SAMPLE_SUBREGION)
    message = personalize(compiled, RecipientData(
        email="voorbeeld@example.org", name="Voorbeeld Lezer", subregion=reader_in.id,
        unsubscribe_url=unsubscribe_url(settings, "VOORBEELD"),
        preferences_url=preferences_url(settings, "VOORBEELD")))
    out = settings.root / "rendered"
    out.mkdir(exist_ok=True)
    write_atomically(out / f"{draft.issue_id}.html", message.html)
    write_atomically(out / f"{draft.issue_id}.txt", message.text)
    return (f"email as a reader in {reader_in.name} sees it: "
            f"{out / draft.issue_id}.html and .txt")


def _step_build_site(settings: Settings) -> str:
    from digiweetjes.site import build_site

    report = build_site(settings)
    return f"web archive ({len(report.published)} issue(s)): open {report.index_path}"


def _step_database(settings: Settings) -> str:
    from digiweetjes.db import Database, describe_url

    database = Database(settings.database_url)
    try:
        revision = database.upgrade()
    finally:
        database.dispose()
    return f"database {describe_url(settings.database_url)} at revision {revision}"


def _step_demo_subscribers(settings: Settings) -> str:
    from digiweetjes.clock import SystemClock
    from digiweetjes.db import open_database
    from digiweetjes.devtools.demo_subscribers import seed_demo_subscribers

    database = open_database(settings.database_url)
    try:
        with database.session() as session:
            added = seed_demo_subscribers(session, settings, SystemClock())
    finally:
        database.dispose()
    return f"{added} fictional demo subscribers added (@example.org, consent source 'demo')"


def _step_approve_sample_issue(settings: Settings) -> str:
    from digiweetjes.clock import SystemClock
    from digiweetjes.db import open_database
    from digiweetjes.devtools.demo_send import approve_demo_issue

    database = open_database(settings.database_url)
    try:
        return approve_demo_issue(database, settings, SystemClock())
    finally:
        database.dispose()


def _step_schedule_sample_issue(settings: Settings) -> str:
    from digiweetjes.clock import SystemClock
    from digiweetjes.devtools.demo_schedule import schedule_and_run_due_job

    return schedule_and_run_due_job(settings, SystemClock())


def _step_web_app(settings: Settings) -> str:
    from digiweetjes.clock import SystemClock
    from digiweetjes.devtools.demo_web import use_the_web_app

    return use_the_web_app(settings, SystemClock())


#: (title, step) in the order they run.
DEMO_STEPS: list[tuple[str, Callable[[Settings], str]]] = [
    ("check the sample issue", _step_check_sample_issue),
    ("render the sample issue", _step_render_sample_issue),
    ("subscriber database", _step_database),
    ("demo subscribers", _step_demo_subscribers),
    ("approve the sample issue", _step_approve_sample_issue),
    ("schedule the sample issue and run the scheduler's due job (outbox)",
     _step_schedule_sample_issue),
    # After the send: the archive publishes only what was sent.
    ("build the web archive", _step_build_site),
    ("the public web app: sign up, confirm, one-click unsubscribe", _step_web_app),
]


@click.command("demo")
def demo() -> None:
    """Build the demo: database and demo subscribers, then the other areas' steps."""
    settings = load_settings(allow_local_secret=True)
    for title, step in DEMO_STEPS:
        click.echo(f"== {title}")
        click.echo(f"   {step(settings)}")


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
    cli.add_command(demo)
