"""The web app under a real uvicorn server on loopback, in a thread (browser tests)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from digiweetjes.clock import Clock
from digiweetjes.config import PROJECT_ROOT, Settings
from digiweetjes.db import Database
from digiweetjes.providers.base import Provider
from digiweetjes.web import create_app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def live_app(settings: Settings, db: Database, clock: Clock, *, port: int,
             provider: Provider | None = None) -> Iterator[str]:
    """Serve ``create_app`` on 127.0.0.1:``port`` until the block ends; yields its base URL."""
    app = create_app(settings, clock=clock, db=db, provider=provider)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-web-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web app did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def live_environment(root: Path, port: int, secret: str) -> dict[str, str]:
    """The ``DIGIWEETJES_*`` settings of an app served on 127.0.0.1:``port`` from ``root``
    (the repository's issues and templates, a SQLite file, the outbox)."""
    return {
        "DIGIWEETJES_ROOT": str(root),
        "DIGIWEETJES_ISSUES_DIR": str(PROJECT_ROOT / "issues"),
        "DIGIWEETJES_TEMPLATES_DIR": str(PROJECT_ROOT / "templates"),
        "DIGIWEETJES_OUTBOX_DIR": str(root / "outbox"),
        "DIGIWEETJES_SITE_DIR": str(root / "site"),
        "DIGIWEETJES_DATABASE_URL": f"sqlite:///{root / 'subscribers.db'}",
        "DIGIWEETJES_SECRET_KEY": secret,
        "DIGIWEETJES_BASE_URL": f"http://127.0.0.1:{port}",
        "DIGIWEETJES_PROVIDER": "outbox",
    }


def local_page(browser, base_url: str, width: int = 1280, **context_options: object):
    """(context, page) of a browser that reaches the app under test and nothing else."""
    context = browser.new_context(viewport={"width": width, "height": 900}, **context_options)
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith(base_url) else route.abort())
    return context, context.new_page()
