"""``/beheer/stijl.css``: the admin pages' own styles, on top of the site's ``/style.css``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digiweetjes.web.public.pages import context_of

STYLESHEET = "web/admin.css"


async def stylesheet(request: Request) -> Response:
    """The stylesheet, straight from the templates."""
    css = (context_of(request).settings.templates_dir / STYLESHEET).read_text(encoding="utf-8")
    return Response(css, media_type="text/css; charset=utf-8")


def routes() -> list[BaseRoute]:
    return [Route("/beheer/stijl.css", stylesheet, methods=["GET", "HEAD"])]
