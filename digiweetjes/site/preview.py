"""The editor's live preview: one draft, personalized for a demo reader, at 800 and 375 px.

``create_preview_app`` builds a Starlette app without starting a server. Each request compares
the modification times of the draft, ``projects.yaml`` and everything under ``templates/`` with
the last render; when anything changed it clears Jinja's template cache and compiles again. The
page polls ``/version`` and reloads itself, so the editor only has to save the file.
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
from digiweetjes.errors import ContentError, ContentErrors, DigiweetjesError
from digiweetjes.links import preferences_url, unsubscribe_url
from digiweetjes.render import CompiledIssue, RecipientData, compile_issue, personalize, templating
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
        return _Rendered(version, source.draft, compiled, ())

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
            return HTMLResponse(_error_page(rendered), status_code=422)
        return HTMLResponse(_index_page(rendered, subregion, renderer.subregion_choices()))

    def email(request: Request) -> Response:
        rendered = renderer.current()
        if rendered.errors or rendered.compiled is None:
            return HTMLResponse(_error_page(rendered), status_code=422)
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


def _poll_script(version: str) -> str:
    # A few lines instead of websockets: the page asks every second whether the inputs changed.
    return f"""<script>
(function () {{
  var shown = {version!r};
  setInterval(function () {{
    fetch("/version", {{cache: "no-store"}}).then(function (r) {{ return r.json(); }})
      .then(function (d) {{ if (d.version !== shown) {{ location.reload(); }} }})
      .catch(function () {{}});
  }}, {POLL_MS});
}})();
</script>"""


_STYLE = """<style>
body { margin: 0; font: 16px/1.5 Arial, Helvetica, sans-serif; color: #1f2933;
  background: #eef2f5; }
header { background: #123c4a; color: #fff; padding: 12px 20px; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 4px 0 0; }
header a { color: #fff; }
form { display: inline-flex; gap: 8px; align-items: center; flex-wrap: wrap; }
main { padding: 16px 20px; }
.frames { display: flex; gap: 24px; align-items: flex-start; overflow-x: auto; }
.frames figure { margin: 0; }
.frames figcaption { font-weight: bold; margin-bottom: 6px; }
iframe { border: 1px solid #9aa5b1; background: #fff; height: 85vh; }
.errors { background: #fff; border-left: 6px solid #a61b1b; padding: 12px 20px; }
.errors h2 { color: #a61b1b; margin-top: 0; }
.errors li { font-family: ui-monospace, monospace; white-space: pre-wrap; margin-bottom: 6px; }
:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
</style>"""


def _page(title: str, body: str, version: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="nl-BE">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n{_STYLE}\n</head>\n<body>\n{body}\n"
            f"{_poll_script(version)}\n</body>\n</html>\n")


def _index_page(rendered: _Rendered, subregion: str,
                choices: tuple[tuple[str, str], ...]) -> str:
    assert rendered.compiled is not None and rendered.draft is not None
    compiled = rendered.compiled
    query = f"?subregio={subregion}" if subregion else ""
    options = "".join(
        f'<option value="{html.escape(value)}"{" selected" if value == subregion else ""}>'
        f"{html.escape(label)}</option>" for value, label in choices)
    frames = "".join(
        f'<figure><figcaption>{width} px breed</figcaption>'
        f'<iframe src="/email{query}" width="{width}" '
        f'title="Voorbeeld van de e-mail op {width} px breed"></iframe></figure>'
        for width in WIDTHS)
    body = f"""<header>
<h1>Voorbeeld: {html.escape(compiled.title)}</h1>
<p>Nr. {compiled.number} · {html.escape(rendered.draft.display_path)} · zoals
{html.escape(DEMO_NAME)} (een verzonnen lezer) de e-mail ontvangt. De pagina ververst vanzelf
wanneer je de draft, een template of projects.yaml bewaart.</p>
</header>
<main>
<form method="get" action="/">
<label for="subregio">Subregio van de lezer</label>
<select id="subregio" name="subregio">{options}</select>
<button type="submit">Toon de e-mail voor deze subregio</button>
<a href="/tekst{query}">Tekstversie van de e-mail bekijken</a>
</form>
<p>Onderwerp: <strong>{html.escape(compiled.subject)}</strong> · Voorvertoning in de mailbox:
{html.escape(compiled.preheader)}</p>
<div class="frames">{frames}</div>
</main>"""
    return _page(f"Voorbeeld: {compiled.title}", body, rendered.version)


def _error_page(rendered: _Rendered) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in rendered.errors)
    count = len(rendered.errors)
    what = "een probleem" if count == 1 else f"{count} problemen"
    body = f"""<header><h1>Het voorbeeld kan niet getoond worden</h1></header>
<main>
<section class="errors" aria-labelledby="fouten">
<h2 id="fouten">De inhoud bevat {what}</h2>
<p>Elke regel noemt het bestand, de regel en het veld. Pas het bestand aan en bewaar het: deze
pagina ververst dan vanzelf.</p>
<ul>{items}</ul>
</section>
</main>"""
    return _page("Fout in het voorbeeld", body, rendered.version)
