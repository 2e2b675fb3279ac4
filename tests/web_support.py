"""The web app in-process for tests: ``web_client`` builds it on the test database."""

from __future__ import annotations

from starlette.testclient import TestClient

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.providers.base import Provider
from digiweetjes.web import create_app


def web_client(settings: Settings, db: Database, clock: Clock, *,
               provider: Provider | None = None, **client_options: object) -> TestClient:
    """A TestClient (httpx) on ``create_app``; server errors come back as pages, not raised."""
    app = create_app(settings.with_(database_url=db.url), clock=clock, db=db,
                     provider=provider)
    options: dict[str, object] = {"base_url": "http://testserver",
                                  "raise_server_exceptions": False, "follow_redirects": False}
    options.update(client_options)
    return TestClient(app, **options)  # type: ignore[arg-type]
