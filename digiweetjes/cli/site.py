"""CLI commands of the web archive area (build, preview)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this area's commands to the top-level group."""
