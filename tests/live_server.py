"""The web app under a real uvicorn server on loopback, in a thread (browser tests)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
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
