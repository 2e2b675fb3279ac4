"""The web app's entry point: the one place in ``web/`` that reads the environment and clock."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from digiweetjes.clock import SystemClock
from digiweetjes.config import Settings
from digiweetjes.web.app import create_app


def app_from_env() -> Starlette:
    """uvicorn's factory for ``digiweetjes serve``: settings from the environment, the real
    clock, the settings' database and provider."""
    return create_app(Settings.from_env(os.environ), clock=SystemClock())
