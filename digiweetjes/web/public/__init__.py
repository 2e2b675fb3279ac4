"""The public pages: sign-up, confirm, preferences, unsubscribe, one-click, privacy."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The public pages' routes."""
    return []
