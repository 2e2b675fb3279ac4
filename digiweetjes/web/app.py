"""``create_app``: the Starlette app of the public pages, the webhooks and the archive.

The collaborators come in as arguments (the entry point ``web.entry.app_from_env`` builds
them from the environment), so tests hand in a migrated test database, the outbox or a
provider on the fake server, and a fixed clock. The archive (``digiweetjes build``) is
served from ``site/`` at the root; the app's own routes come first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database, open_database
from digiweetjes.providers.base import Provider
from digiweetjes.web import admin, public, webhooks
from digiweetjes.web.admin import session as admin_session
from digiweetjes.web.admin.subscribers.common import IMPORT_PATH
from digiweetjes.web.context import WebContext
from digiweetjes.web.errors import EXCEPTION_HANDLERS
from digiweetjes.web.middleware import BodyLimit, SecurityHeaders
from digiweetjes.web.public.oneclick import OneClickFastPath

STYLESHEET = "web/style.css"


def create_app(settings: Settings, *, clock: Clock, db: Database | None = None,
               provider: Provider | None = None) -> Starlette:
    """The web app on these collaborators (defaults: the settings' database and provider).
    A database opened here is closed when the app shuts down."""
    settings.require_secret_key()  # every link the pages make or read is signed with it
    public_middleware = public.middleware(settings)  # checks the privacy notice's version
    owned = db is None
    database = db or open_database(settings.database_url)
    if provider is None:
        from digiweetjes.providers.registry import get_provider

        provider = get_provider(settings, clock)
    context = WebContext(settings=settings, db=database, provider=provider, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        context.close()
        if owned:
            database.dispose()

    routes: list[BaseRoute] = [
        *public.routes(),
        *webhooks.routes(),
        *admin.routes(),
        Route("/style.css", stylesheet, methods=["GET", "HEAD"]),
        Route("/healthz", health, methods=["GET", "HEAD"]),
        # The archive built by `digiweetjes build`: index.html, archief/..., feed.xml.
        Mount("/", app=Archive(directory=settings.site_dir, html=True, check_dir=False),
              name="archive"),
    ]

    def body_limit(path: str) -> int:
        web = settings.web
        if path == IMPORT_PATH:  # the one form that uploads a file: a CSV list
            return int(web.import_max_bytes)
        return int(web.webhook_max_bytes if path.startswith("/webhooks/")
                   else web.max_form_bytes)

    app = Starlette(
        routes=routes,
        # One-click first: it answers its exact request itself, past the rest (``oneclick``).
        middleware=[Middleware(OneClickFastPath, context=context),
                    Middleware(SecurityHeaders), Middleware(BodyLimit, limit_for=body_limit),
                    *public_middleware, *admin_session.middleware(settings)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.context = context
    return app


class Archive(StaticFiles):
    """``site/`` as built by ``digiweetjes build``; not built yet means 404, not a crash.

    The folder is looked up on every request: a rebuild swaps it in whole (``write_site``).
    """

    scope_method = "GET"

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        self.scope_method = scope.get("method", "GET")
        await super().__call__(scope, receive, send)

    async def check_config(self) -> None:
        # Checked here, before the folder: a POST to a page that does not exist is a 405.
        if self.scope_method not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"allow": "GET, HEAD"})
        if self.directory is None or not os.path.isdir(self.directory):
            raise HTTPException(404)
        await super().check_config()


async def stylesheet(request: Request) -> Response:
    """The archive's stylesheet, straight from the templates (it works before a build)."""
    context: WebContext = request.app.state.context
    css = (context.settings.templates_dir / STYLESHEET).read_text(encoding="utf-8")
    return Response(css, media_type="text/css; charset=utf-8",
                    headers={"cache-control": "public, max-age=3600"})


async def health(request: Request) -> Response:
    """For a load balancer or monitor: 200 when the database answers."""
    from sqlalchemy import text
    from starlette.concurrency import run_in_threadpool

    context: WebContext = request.app.state.context

    def ping() -> None:
        with context.db.session() as session:
            session.execute(text("SELECT 1"))

    await run_in_threadpool(ping)
    return PlainTextResponse("ok\n")
