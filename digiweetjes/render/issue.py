"""Compile an issue once (Markdown → Jinja → MJML → HTML, and text); personalize it cheaply.

The issue's inputs come from the content read step (``content.source.read_issue``); this module
reads no file but the templates. ``compile_issue`` runs the whole chain once per issue and leaves
the per-recipient placeholders in both parts. Per recipient, ``CompiledIssue.values_for`` gives
the values (HTML-escaped for the HTML part) and ``FillableTemplate.fill`` puts them in: the
sending engine and its providers do exactly that, and ``personalize`` is that same pair for
everyone else (check, preview, render). MJML never runs per recipient.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import Markup
from mjml import mjml2html

from digiweetjes.config import Settings
from digiweetjes.content.drafts import Audience
from digiweetjes.content.source import IssueSource
from digiweetjes.errors import RenderError
from digiweetjes.links import (
    archive_url,
    logo_url,
    preferences_url,
    privacy_url,
    projects_url,
    unsubscribe_url,
    web_url,
)
from digiweetjes.render.placeholders import (
    FillableTemplate,
    Markers,
    strip_markers,
    unescape_rust_markers,
)
from digiweetjes.render.templating import render_template

#: The placeholders every compiled issue carries (both parts).
PLACEHOLDERS = ("greeting", "digibank", "unsubscribe_url", "preferences_url")
GMAIL_CLIP_BYTES = 102 * 1024


@dataclass(frozen=True)
class RecipientData:
    """What personalization needs to know of one recipient."""

    email: str
    name: str | None
    subregion: str | None
    unsubscribe_url: str
    preferences_url: str


@dataclass(frozen=True)
class PersonalizedMessage:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class CompiledIssue:
    """An issue rendered once: both parts with placeholders, and the per-subregion blocks."""

    issue_id: str
    number: int
    title: str
    preheader: str
    date: date
    send_at: datetime
    audience: Audience
    web_url: str
    html: FillableTemplate
    text: FillableTemplate
    digibank_html: Mapping[str, str]   # subregion id → block; "" → every Digibank
    digibank_text: Mapping[str, str]

    @property
    def subject(self) -> str:
        return self.title

    @property
    def tag(self) -> str:
        """Provider tag naming the issue (letters, digits, dashes: every provider accepts it)."""
        return f"digiweetje-{self.number}"

    def values_for(self, recipient: RecipientData) -> tuple[dict[str, str], dict[str, str]]:
        """The placeholder values for one recipient: (HTML-escaped, plain text)."""
        name = (recipient.name or "").strip()
        greeting = f"Beste {name}," if name else "Beste lezer,"
        block = recipient.subregion if recipient.subregion in self.digibank_html else ""
        html_values = {
            "greeting": html.escape(greeting),
            "digibank": self.digibank_html[block],
            "unsubscribe_url": html.escape(recipient.unsubscribe_url),
            "preferences_url": html.escape(recipient.preferences_url),
        }
        text_values = {
            "greeting": greeting,
            "digibank": self.digibank_text[block],
            "unsubscribe_url": recipient.unsubscribe_url,
            "preferences_url": recipient.preferences_url,
        }
        return html_values, text_values

    def web_version(self, settings: Settings) -> PersonalizedMessage:
        """The issue as anyone may see it: no personal links, every Digibank listed."""
        return personalize(self, RecipientData(
            email="", name=None, subregion=None,
            unsubscribe_url=unsubscribe_url(settings),
            preferences_url=preferences_url(settings)))


def personalize(compiled: CompiledIssue, recipient: RecipientData) -> PersonalizedMessage:
    """``values_for`` + ``fill`` of both parts, as the sending path does (no rendering here)."""
    html_values, text_values = compiled.values_for(recipient)
    return PersonalizedMessage(subject=compiled.subject, html=compiled.html.fill(html_values),
                               text=compiled.text.fill(text_values))


def issue_context(source: IssueSource, settings: Settings) -> dict[str, object]:
    """The data both email templates and the web archive render from."""
    draft, projects = source.draft, source.projects
    since = draft.meta.changes_since or source.previous_date
    changes = projects.updates_since(since)
    if since is None:
        changes = changes[:5]
    featured = [projects.get(pid) for pid in draft.meta.featured]
    # What is new since the previous issue, per project: the email marks it in the project's own
    # place instead of repeating it in a section of its own (the first issue marks nothing).
    news: dict[str, list[object]] = {}
    if since is not None:
        for project, update in changes:
            news.setdefault(project.id, []).append(update)
    featured_ids = {p.id for p in featured if p is not None}
    others = [(tier, [p for p in members if p.id not in featured_ids])
              for tier, members in projects.by_tier()]
    return {
        "issue": draft.meta,
        "issue_id": draft.issue_id,
        "body_html": draft.body.html,
        "body_text": draft.body.text,
        "featured": featured,
        "tiers": projects.by_tier(),
        "others": [(tier, members) for tier, members in others if members],
        "news": news,
        "news_projects": [p for p in projects.projects if p.id in news],
        "thresholds": projects.thresholds,
        "threshold_names": {t.id: t.name for t in projects.thresholds},
        "region": projects.region,
        "changes": changes,
        "changes_since": since,
        "web_url": web_url(settings, draft.issue_id),
        "archive_url": archive_url(settings),
        "projects_url": projects_url(settings),
        "privacy_url": privacy_url(settings),
        "logo_url": logo_url(settings),
        "source_url": projects.source_url,
        "settings": settings,
    }


def compile_issue(source: IssueSource, settings: Settings) -> CompiledIssue:
    """Render the issue once, leaving the per-recipient placeholders in place (no file I/O)."""
    draft, projects = source.draft, source.projects
    # This compile's own markers: content, written before the nonce existed, cannot hold one.
    markers = Markers.fresh()
    context = {**issue_context(source, settings),
               "placeholder": lambda name: Markup(markers(name))}
    templates = settings.templates_dir
    mjml_source = render_template(templates, "email/issue.mjml.j2", **context)
    html_text = mjml_to_html(mjml_source, "email/issue.mjml.j2")
    text = render_template(templates, "email/issue.txt.j2", **context)
    digibank_html: dict[str, str] = {}
    digibank_text: dict[str, str] = {}
    for subregion in (None, *projects.region.subregions):
        key = subregion.id if subregion else ""
        block_context = {"subregion": subregion, "region": projects.region}
        # The blocks are values, filled in as they are: no marker may travel in one.
        digibank_html[key] = strip_markers(render_template(
            templates, "email/_digibank.html.j2", **block_context).strip())
        digibank_text[key] = strip_markers(render_template(
            templates, "email/_digibank.txt.j2", **block_context).strip())
    compiled_html = FillableTemplate.parse(html_text, markers)
    compiled_text = FillableTemplate.parse(text, markers)
    for part, template in (("HTML", compiled_html), ("text", compiled_text)):
        missing = set(PLACEHOLDERS) - template.names
        if missing:
            raise RenderError(f"the {part} template lost placeholders: {sorted(missing)}")
    return CompiledIssue(
        # The subject goes into a header as it is: never a marker in it, whatever slipped by.
        issue_id=draft.issue_id, number=draft.meta.number, title=strip_markers(draft.meta.title),
        preheader=strip_markers(draft.meta.preheader), date=draft.meta.date, send_at=draft.send_at,
        audience=draft.meta.audience, web_url=context["web_url"], html=compiled_html,
        text=compiled_text, digibank_html=digibank_html, digibank_text=digibank_text)


def mjml_to_html(source: str, origin: str) -> str:
    """MJML → HTML through MRML; its errors name the template."""
    try:
        output = mjml2html(source)
    except Exception as exc:  # MRML raises plain exceptions of its own
        raise RenderError(f"{origin}: MJML could not be rendered: {exc}") from exc
    return unescape_rust_markers(output)

