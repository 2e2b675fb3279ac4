"""The editor's live preview: one draft, personalized for a demo reader, at 800 and 375 px.

``create_preview_app`` builds a Starlette app without starting a server. Each request compares
the modification times of the draft, ``projects.yaml`` and everything under ``templates/`` with
the last render; when anything changed it clears Jinja's template cache and compiles again. The
page polls ``/version`` and reloads itself, so the editor only has to save the file. The page
is ``templates/web/preview.html.j2``; it also lists what ``digiweetjes check`` would say.
"""

from __future__ import annotations

import hashlib
import html
import threading
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from digiweetjes.config import Settings
from digiweetjes.content.drafts import Draft
from digiweetjes.content.source import read_issue
from digiweetjes.errors import ContentError, ContentErrors, DigiweetjesError, RenderError
from digiweetjes.links import preferences_url, unsubscribe_url
from digiweetjes.render import CompiledIssue, RecipientData, compile_issue, personalize, templating
from digiweetjes.render.gate import check_source
from digiweetjes.render.templating import render_template
from digiweetjes.subscribers.places import region

DEMO_NAME = "Voorbeeld Lezer"
DEMO_EMAIL = "voorbeeld.lezer@example.be"
NO_SUBREGION = ("", "Geen (alle Digibanken)")
WIDTHS = (800, 375)
POLL_MS = 1000


@dataclass(frozen=True)
class _Rendered:
    version: str
    draft: Draft | None
    compiled: CompiledIssue | None
    errors: tuple[str, ...]   # "file:line: field: message", one per problem
    # What `digiweetjes check` says of a draft that compiles: shown, the preview goes on.
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    summary: str | None = None


class PreviewRenderer:
    """Compiles the draft again whenever one of its inputs changed on disk."""

    def __init__(self, settings: Settings, draft_path: Path) -> None:
        self.settings = settings
        self.draft_path = draft_path
        self._lock = threading.Lock()
        self._current: _Rendered | None = None

    def watched_files(self) -> list[Path]:
        templates = self.settings.templates_dir
        files = [self.draft_path, self.settings.projects_path]
        files += sorted(p for p in templates.rglob("*") if p.is_file())
        return files

    def fingerprint(self) -> str:
        """A short hash of the watched files' names, sizes and modification times."""
        digest = hashlib.sha256()
        for path in self.watched_files():
            try:
                stat = path.stat()
                digest.update(f"{path}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
            except OSError:
                digest.update(f"{path}\0missing\n".encode())
        return digest.hexdigest()[:16]

    def current(self) -> _Rendered:
        """The latest render, redone first if anything changed since."""
        version = self.fingerprint()
        with self._lock:
            if self._current is None or self._current.version != version:
                # The Jinja environment caches compiled templates and never reloads them.
                templating.environment.cache_clear()
                self._current = self._render(version)
            return self._current

    def _render(self, version: str) -> _Rendered:
        try:
            source = read_issue(self.settings.issues_dir, self.draft_path)
            compiled = compile_issue(source, self.settings)
        except ContentErrors as exc:
            return _Rendered(version, None, None, tuple(str(e) for e in exc.errors))
        except DigiweetjesError as exc:
            return _Rendered(version, None, None, tuple(str(exc).splitlines()) or ("?",))
        except Exception as exc:  # a template bug mid-edit must not take the preview down
            return _Rendered(version, None, None, (f"{type(exc).__name__}: {exc}",))
        try:
            report = check_source(source, compiled, self.settings)
        except DigiweetjesError as exc:  # e.g. a broken b1-woordenlijst.yaml
            return _Rendered(version, source.draft, compiled, (), (str(exc),))
        return _Rendered(version, source.draft, compiled, (), tuple(report.problems),
                         tuple(report.warnings), report.summary)

    def subregion_choices(self) -> tuple[tuple[str, str], ...]:
        """(value, label) of the subregion menu: none, then the region's subregions."""
        try:
            subregions = region(self.settings).subregions
        except ContentError:  # a broken projects.yaml: the render shows why
            subregions = ()
        return (NO_SUBREGION, *((s.id, s.name) for s in subregions))

    def demo_recipient(self, subregion: str | None) -> RecipientData:
        """A fictional reader: the preview never shows a real subscriber's data or links."""
        return demo_recipient(self.settings, subregion)


def demo_recipient(settings: Settings, subregion: str | None = None) -> RecipientData:
    """The fictional reader of every preview (this one and the editors' web pages)."""
    # The marker tells the web app that a preview's link was followed, not a real one.
    return RecipientData(email=DEMO_EMAIL, name=DEMO_NAME, subregion=subregion or None,
                         unsubscribe_url=unsubscribe_url(settings) + "?voorbeeld=1",
                         preferences_url=preferences_url(settings) + "?voorbeeld=1")


def create_preview_app(settings: Settings, draft_path: Path) -> Starlette:
    """The preview web app for one draft (start it with uvicorn, or test it with TestClient)."""
    renderer = PreviewRenderer(settings, draft_path)

    def subregion_of(request: Request) -> str:
        value = request.query_params.get("subregio", "")
        return value if value in dict(renderer.subregion_choices()) else ""

    def index(request: Request) -> Response:
        rendered = renderer.current()
        subregion = subregion_of(request)
        if rendered.errors:
            return HTMLResponse(_error_page(renderer.settings, rendered), status_code=422)
        return HTMLResponse(_index_page(renderer.settings, rendered, subregion,
                                        renderer.subregion_choices()))

    def email(request: Request) -> Response:
        rendered = renderer.current()
        if rendered.errors or rendered.compiled is None:
            return HTMLResponse(_error_page(renderer.settings, rendered), status_code=422)
        message = personalize(rendered.compiled, renderer.demo_recipient(subregion_of(request)))
        return HTMLResponse(message.html)

    def text(request: Request) -> Response:
        rendered = renderer.current()
        if rendered.errors or rendered.compiled is None:
            return PlainTextResponse("\n".join(rendered.errors), status_code=422)
        message = personalize(rendered.compiled, renderer.demo_recipient(subregion_of(request)))
        return PlainTextResponse(message.text)

    def version(request: Request) -> Response:
        rendered = renderer.current()
        return JSONResponse({"version": rendered.version, "ok": not rendered.errors},
                            headers={"Cache-Control": "no-store"})

    app = Starlette(routes=[
        Route("/", index),
        Route("/email", email),
        Route("/tekst", text),
        Route("/version", version),
    ])
    app.state.renderer = renderer
    return app


def _page(settings: Settings, rendered: _Rendered, **context: object) -> str:
    """The preview page (``templates/web/preview.html.j2``): the email, or why it cannot be
    shown; a broken preview template itself still leaves a page that says so."""
    try:
        return render_template(settings.templates_dir, "web/preview.html.j2",
                               version=rendered.version, poll_ms=POLL_MS, **context)
    except RenderError as exc:
        return (f'<!DOCTYPE html><html lang="nl-BE"><title>Fout in het voorbeeld</title>'
                f"<h1>De voorbeeldpagina zelf kan niet getoond worden</h1>"
                f"<p>{html.escape(str(exc))}</p></html>")


def _index_page(settings: Settings, rendered: _Rendered, subregion: str,
                choices: tuple[tuple[str, str], ...]) -> str:
    assert rendered.compiled is not None and rendered.draft is not None
    return _page(settings, rendered, errors=(), compiled=rendered.compiled,
                 draft_path=rendered.draft.display_path, demo_name=DEMO_NAME,
                 problems=rendered.problems, warnings=rendered.warnings,
                 summary=rendered.summary, choices=choices, subregion=subregion,
                 query=f"?subregio={subregion}" if subregion else "", widths=WIDTHS)


def _error_page(settings: Settings, rendered: _Rendered) -> str:
    return _page(settings, rendered, errors=rendered.errors)
