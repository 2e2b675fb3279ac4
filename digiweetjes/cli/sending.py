"""CLI commands of the sending area."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
    cli.add_command(fake_provider_command)


# -- fake-provider: a local stand-in for the six mail providers (tests, benchmarks, demos) --


@click.command("fake-provider")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Loopback address to bind (loopback only).")
@click.option("--port", default=8025, show_default=True, type=int,
              help="Port to bind; 0 picks a free one.")
@click.option("--latency-ms", default=0.0, show_default=True, type=float,
              help="Fixed latency added to every provider request.")
@click.option("--error-5xx-rate", default=0.0, type=float, help="Share of requests answered 5xx.")
@click.option("--rate-limit-rate", default=0.0, type=float,
              help="Share of requests answered 429 with the provider's retry hint.")
@click.option("--timeout-rate", default=0.0, type=float,
              help="Share of requests accepted then left unanswered (hang, then close).")
@click.option("--drop-rate", default=0.0, type=float,
              help="Share of requests accepted then closed without an answer.")
@click.option("--reject-pattern", default=None, help="Reject recipients matching this regex.")
@click.option("--seed", default=None, type=int, help="Seed of the fault draws.")
@click.option("--keep-bodies", is_flag=True,
              help="Render and keep what each recipient would read (memory grows).")
@click.option("--record", "record", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Append every delivery to this JSONL file.")
def fake_provider_command(host: str, port: int, latency_ms: float, error_5xx_rate: float,
                          rate_limit_rate: float, timeout_rate: float, drop_rate: float,
                          reject_pattern: str | None, seed: int | None, keep_bodies: bool,
                          record: Path | None) -> None:
    """Run a fake of the six providers' sending APIs on loopback (control API under /_fake/)."""
    from digiweetjes.providers.fake_server import FakeProviderServer, Faults

    faults = Faults(seed=seed, latency_ms=latency_ms, error_5xx_rate=error_5xx_rate,
                    rate_limit_rate=rate_limit_rate, timeout_after_rate=timeout_rate,
                    drop_after_rate=drop_rate, reject_pattern=reject_pattern,
                    keep_bodies=keep_bodies)
    try:
        server = FakeProviderServer(host, port, faults=faults, record_path=record)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--host") from exc
    click.echo(f"listening on {server.url}")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
