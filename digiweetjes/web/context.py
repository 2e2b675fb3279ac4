"""What every route is handed: settings, database, provider, clock, and page rendering."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.links import archive_url, privacy_url, projects_url, subscribe_url
from digiweetjes.providers.base import Provider
from digiweetjes.render.templating import render_template
from digiweetjes.subscribers.places import region
from digiweetjes.subscribers.topics import TOPICS
from digiweetjes.web.writes import WriteQueue

T = TypeVar("T")


@dataclass
class WebContext:
    """The web app's collaborators; ``create_app`` makes one, routes read it from app.state."""

    settings: Settings
    db: Database
    provider: Provider
    clock: Clock
    #: Pages that are the same for every visitor, rendered once (``pages.constant_page``).
    rendered: dict[object, str] = field(default_factory=dict)
    #: The threads that run write transactions. SQLite has one writer at a time, so one thread
    #: per process: requests queue here instead of waking eight threads to contend for the
    #: write lock (the one-click load's p99). PostgreSQL writes side by side.
    writes: ThreadPoolExecutor = field(init=False)
    #: The quick writes (one-click, sign-up): batched on the event loop on SQLite (``writes``).
    write_queue: WriteQueue = field(init=False)

    def __post_init__(self) -> None:
        self.writes = ThreadPoolExecutor(max_workers=1 if self.db.backend == "sqlite" else 8,
                                         thread_name_prefix="digiweetjes-writes")
        self.write_queue = WriteQueue(self.db, self.writes)

    async def write(self, job: Callable[[Connection], T]) -> T:
        """``job(connection)``, a quick write (a few statements, no network, no file), in a
        transaction of the write queue; its result once committed."""
        return await self.write_queue.run(job)

    def close(self) -> None:
        """At the app's shutdown: the write threads finish, the queue's connection closes."""
        self.writes.shutdown(wait=True)
        self.write_queue.close()

    async def run_write(self, work: Callable[[], T]) -> T:
        """``work()`` (a write transaction) on a write thread; the caller's context goes along."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.writes, contextvars.copy_context().run, work)

    def page_context(self) -> dict[str, Any]:
        """What every page of the web app is rendered with (the archive's frame needs it too)."""
        settings = self.settings
        return {
            "base_url": settings.base_url,
            "archive_url": archive_url(settings),
            "projects_url": projects_url(settings),
            "subscribe_url": subscribe_url(settings),
            "privacy_url": privacy_url(settings),
            "reply_to": settings.reply_to,
            "region": region(settings),
            # The app's pages live at the site root, beside the archive's files.
            "root": "/",
            "page": "app",
            # The app's own forms post back to the host that served them (CSP form-action).
            "signup_action": "/inschrijven",
            "topics": TOPICS,
        }

    def constant_page(self, template: str, **values: Hashable) -> str:
        """A page of ``templates/web/`` that is the same for every visitor (no token, no form,
        nothing of the request in it): rendered once per set of values, then from memory."""
        key = (template, tuple(sorted(values.items())))
        body = self.rendered.get(key)
        if body is None:
            body = self.rendered[key] = self.render(f"web/{template}", status=200, **values)
        return body

    def render(self, name: str, **context: Any) -> str:
        """A page of ``templates/web/``, with the common context."""
        return render_template(self.settings.templates_dir, name,
                               **{**self.page_context(), **context})
