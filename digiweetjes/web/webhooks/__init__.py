"""``POST /webhooks/<provider>``: bounces, complaints and unsubscribes reported by providers."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """The webhook routes."""
    return []
