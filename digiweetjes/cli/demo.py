"""``digiweetjes demo``: build a working demo from scratch, one step after another.

Each area appends its step to ``DEMO_STEPS``: a title and a function of the settings that does
the work and returns a line to print. Steps run in list order.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from digiweetjes.cli.common import load_settings
from digiweetjes.config import Settings


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
    from digiweetjes.demo_subscribers import seed_demo_subscribers

    database = open_database(settings.database_url)
    try:
        with database.session() as session:
            added = seed_demo_subscribers(session, settings, SystemClock())
    finally:
        database.dispose()
    return f"{added} fictional demo subscribers added (@example.org, consent source 'demo')"


def _step_send_sample_issue(settings: Settings) -> str:
    from digiweetjes.clock import SystemClock
    from digiweetjes.sending.demo import send_demo_issue

    return send_demo_issue(settings, SystemClock())


#: (title, step) in the order they run; other areas append render, build and send steps.
DEMO_STEPS: list[tuple[str, Callable[[Settings], str]]] = [
    ("subscriber database", _step_database),
    ("demo subscribers", _step_demo_subscribers),
    ("send the sample issue through the outbox", _step_send_sample_issue),
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
