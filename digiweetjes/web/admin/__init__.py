"""The admin pages under ``/beheer``: login, the overview, and the pages for editors (issues)
and admins (subscribers, the audit log). Dutch, server-rendered from ``templates/web/admin/``.

- ``session``: the signed session cookie, its idle and absolute lifetimes, no-store answers;
- ``auth``: ``requires(role)``, ``audit``, ``admin_page`` (the admin frame), ``Role``,
  ``AdminUser``;
- ``login``: ``/beheer/aanmelden`` and ``/beheer/afmelden``;
- ``dashboard``: ``/beheer``; ``logbook``: ``/beheer/logboek``; ``style``: the stylesheet;
- ``issues`` (with ``issue_view``, ``issue_actions``): ``/beheer/nummers`` for editors;
  ``chart``: the overview's weekly chart.

Each page module exposes ``routes()``; ``routes()`` here lists them all. Every form carries the
CSRF token (``csrftoken``; ``/beheer`` is always protected, see ``web.public.csrf``).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from digiweetjes.web.admin import dashboard, issues, logbook, login, style, subscribers


def routes() -> list[BaseRoute]:
    """Every admin route: each page module's ``routes()``."""
    return [
        *login.routes(),
        *dashboard.routes(),
        *issues.routes(),
        *logbook.routes(),
        *style.routes(),
        *subscribers.routes(),
    ]
