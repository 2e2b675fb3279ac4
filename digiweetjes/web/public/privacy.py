"""``/privacy``: the privacy notice of the version in use (``DIGIWEETJES_PRIVACY_NOTICE_VERSION``).

Each version's text is a file of its own, ``templates/web/privacy/<version>.html.j2``, kept
after it is replaced: the consent ledger records which version a person agreed to, and that
text must stay readable. The version in use is checked when the app is built, so a version
without a text stops ``digiweetjes serve`` instead of answering 500 later.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from digiweetjes.config import Settings
from digiweetjes.errors import ConfigError
from digiweetjes.web.public.pages import context_of

NOTICE_FOLDER = "web/privacy"
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,39}")


def notice_template(settings: Settings) -> str:
    """The template of the notice in use; ConfigError (Dutch) when that version has no text."""
    version = settings.privacy_notice_version
    folder = settings.templates_dir / NOTICE_FOLDER
    known = sorted(p.name.removesuffix(".html.j2") for p in folder.glob("*.html.j2"))
    if not _VERSION.fullmatch(version) or version not in known:
        shown = version if len(version) <= 40 else version[:40] + "…"
        raise ConfigError(
            f"DIGIWEETJES_PRIVACY_NOTICE_VERSION is {shown!r}, maar er is geen "
            f"privacyverklaring met die versie in {folder}; beschikbare versies: "
            f"{', '.join(known) or 'geen'}. Zet een bestaande versie, of voeg de tekst toe als "
            f"{NOTICE_FOLDER}/<versie>.html.j2.")
    return f"{NOTICE_FOLDER}/{version}.html.j2"


async def privacy(request: Request) -> Response:
    """GET /privacy: the notice in use (public, cacheable for an hour)."""
    context = context_of(request)
    body = context.render("web/privacy.html.j2", notice=notice_template(context.settings),
                          version=context.settings.privacy_notice_version,
                          unsubscribe_mailto=context.settings.unsubscribe_mailto)
    return HTMLResponse(body, headers={"cache-control": "public, max-age=3600"})
