"""``digiweetjes bench ...``: benchmarks that print figures against their targets.

Each benchmark is a subcommand of the ``bench`` group; ``bench all`` runs every one of them in
turn. Speed targets live here, never in timed tests.
"""

from __future__ import annotations

import click

from digiweetjes.cli.common import load_settings


@click.group()
def bench() -> None:
    """Run benchmarks and print their figures against the targets."""


@bench.command("all")
@click.pass_context
def bench_all(ctx: click.Context) -> None:
    """Run every benchmark in turn."""
    for name, command in sorted(bench.commands.items()):
        if name == "all":
            continue
        click.echo(f"== bench {name}")
        ctx.invoke(command)


@bench.command("render")
@click.option("--rounds", default=200, show_default=True, help="compile_issue() runs.")
@click.option("--recipients", default=100_000, show_default=True,
              help="personalize() calls.")
def bench_render(rounds: int, recipients: int) -> None:
    """Median compile_issue() time and per-recipient personalize() cost of the sample issue."""
    from digiweetjes.devtools.bench_render import run_render_benchmark

    for line in run_render_benchmark(load_settings(), rounds=rounds, recipients=recipients):
        click.echo(line)


@bench.command("import")
@click.option("--rows", default=100_000, show_default=True, help="Rows in the generated CSV.")
def bench_import(rows: int) -> None:
    """Import a generated Excel-style CSV into a fresh SQLite file: seconds and peak RSS."""
    from digiweetjes.devtools.bench_import import run_import_benchmark

    lines, _ok = run_import_benchmark(rows)
    for line in lines:
        click.echo(line)


@bench.command("send")
@click.option("--recipients", default=100_000, show_default=True,
              help="Recipients of the Brevo- and Postmark-style runs.")
@click.option("--million/--no-million", default=True, show_default=True,
              help="Also send to 10× as many (about five minutes on two cores).")
@click.option("--concurrency", default=4, show_default=True,
              help="Requests in flight per sending process.")
@click.option("--processes", default=2, show_default=True, help="Sending processes.")
def bench_send(recipients: int, million: bool, concurrency: int, processes: int) -> None:
    """End-to-end send through the engine against the fake provider (20 ms a request)."""
    from digiweetjes.devtools.bench_send import run_send_benchmark

    for line in run_send_benchmark(recipients=recipients, million=million,
                                   concurrency=concurrency, processes=processes):
        click.echo(line)


@bench.command("web")
@click.option("--signups", default=3000, show_default=True, help="Sign-up form posts.")
@click.option("--unsubscribes", default=5000, show_default=True,
              help="One-click unsubscribe posts.")
@click.option("--webhook-events", default=1000, show_default=True,
              help="Events in the one webhook batch.")
@click.option("--concurrency", default=8, show_default=True, help="Connections in flight.")
@click.option("--workers", default=2, show_default=True,
              help="uvicorn worker processes (one a core on the 2-core target machine).")
@click.option("--database-url", default=None, metavar="URL",
              help="Run on this database instead of a fresh SQLite file; a PostgreSQL URL gets "
                   "a schema of its own for the run, dropped afterwards.")
def bench_web(signups: int, unsubscribes: int, webhook_events: int, concurrency: int,
              workers: int, database_url: str | None) -> None:
    """The web app under uvicorn on loopback: sign-ups/s, one-click unsubscribes/s, p99, and
    one webhook batch."""
    from digiweetjes.devtools.bench_web import run_web_benchmark

    for line in run_web_benchmark(signups=signups, unsubscribes=unsubscribes,
                                  webhook_events=webhook_events, concurrency=concurrency,
                                  workers=workers, database_url=database_url):
        click.echo(line)


def register(cli: click.Group) -> None:
    """Add the bench group (other areas add their own subcommands to ``bench``)."""
    cli.add_command(bench)
