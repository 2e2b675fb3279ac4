"""``digiweetjes scheduler`` (and ``python scheduler.py``): run the long-running scheduler."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import click

from digiweetjes.cli.common import load_settings, run_cli


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
    cli.add_command(scheduler_command)


@click.command("scheduler")
def scheduler_command() -> None:
    """De planner draaien: verstuurt ingeplande nummers op hun tijdstip (stoppen met SIGTERM of
    Ctrl-C)."""
    from digiweetjes.clock import SystemClock
    from digiweetjes.providers.registry import get_provider
    from digiweetjes.scheduling.runner import run_scheduler

    settings = load_settings()
    settings.require_secret_key()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
    # Our decisions, one Dutch line each; APScheduler's own lines are English and repeat ours.
    logging.getLogger("digiweetjes.scheduler").setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    stop = threading.Event()

    def on_signal(number: int, _frame: object) -> None:
        logging.getLogger("digiweetjes.scheduler").info(
            "signaal %s ontvangen: stoppen na de lopende batch", signal.Signals(number).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    clock = SystemClock()
    run_scheduler(settings, clock, stop, provider_factory=lambda: get_provider(settings, clock))


def main() -> int:
    """``python scheduler.py``: the same command, with its error handling."""
    return run_cli(scheduler_command, sys.argv[1:])
