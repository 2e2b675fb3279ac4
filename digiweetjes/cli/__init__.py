"""The ``digiweetjes`` command: thin commands that load settings and call one domain function.

Each area registers its commands from its own module, so the areas stay apart:
``editor`` (new, render, check), ``release`` (approve, schedule, unschedule, jobs), ``site``
(build, preview), ``admin`` (init, subscribers ...), ``users`` (the admin pages' accounts),
``sending`` (send, status, fake-provider), ``providers`` (sync-suppressions), ``reconcile``,
``scheduler``, ``web`` (serve), ``bench`` and ``demo``.
"""

from __future__ import annotations

import sys

import click

from digiweetjes.cli.common import run_cli, speak_dutch

speak_dutch()  # before the commands below are declared (see speak_dutch)

from digiweetjes.cli import (  # noqa: E402 (after speak_dutch on purpose)
    admin,
    bench,
    demo,
    editor,
    providers,
    reconcile,
    release,
    scheduler,
    sending,
    site,
    users,
    web,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="digiweetjes")
def cli() -> None:
    """Digi-weetjes: de nieuwsbrief van Werkkracht10 over e-inclusie schrijven, nakijken,
    publiceren en versturen."""


def _dutch_metavars(command: click.Command) -> None:
    """"[OPTIES]" and "OPDRACHT [ARGUMENTEN]..." in the usage lines (click's defaults are
    constructor arguments, not translated texts)."""
    command.options_metavar = "[OPTIES]"
    if isinstance(command, click.Group):
        command.subcommand_metavar = "OPDRACHT [ARGUMENTEN]..."
        for sub in command.commands.values():
            _dutch_metavars(sub)


for _area in (editor, release, site, admin, users, sending, providers, reconcile, scheduler,
              web, bench, demo):
    _area.register(cli)
_dutch_metavars(cli)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: errors become a clear message and a non-zero exit."""
    return run_cli(cli, argv if argv is not None else sys.argv[1:])
