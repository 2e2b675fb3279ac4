"""The web app: the public pages, the provider webhooks and the admin pages.

``create_app(settings, ...)`` builds a Starlette app from its collaborators (database,
provider, clock), so tests run it in-process through httpx and ``digiweetjes serve`` runs the
same app under uvicorn. The routes call the subscriber operations of ``digiweetjes.subscribers``;
no subscriber logic lives here. Every page a person sees is Dutch; no error shows a traceback.

- ``app``: ``create_app``, middleware, the archive mounted from ``site/``;
- ``context``: ``WebContext``, what every route is handed (and how a page is rendered);
- ``errors``: the Dutch error pages and the exception handlers;
- ``public``: sign-up, confirm, preferences, unsubscribe (page and RFC 8058 one-click), privacy;
- ``webhooks``: ``POST /webhooks/<provider>`` for the six providers;
- ``admin``: the editors' and admins' pages under ``/beheer`` (login, roles, audit log);
- ``options``: the ``DIGIWEETJES_WEB*`` settings.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: config imports web.options, and the app imports config.
    if name == "create_app":
        from digiweetjes.web.app import create_app

        return create_app
    raise AttributeError(name)
