"""The release gate: ``check_issue`` lists every problem that must be fixed before sending."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from digiweetjes.config import Settings
from digiweetjes.content.source import read_issue
from digiweetjes.errors import ContentError, ContentErrors, DigiweetjesError
from digiweetjes.links import preferences_url, unsubscribe_url
from digiweetjes.render.issue import (
    GMAIL_CLIP_BYTES,
    PLACEHOLDERS,
    CompiledIssue,
    RecipientData,
    compile_issue,
    personalize,
)
from digiweetjes.render.placeholders import PLACEHOLDER_CLOSE, PLACEHOLDER_OPEN

#: Link texts that say nothing out of context (WCAG 2.4.4), compared lower-case, unpunctuated.
BARE_LINK_TEXTS = frozenset({
    "hier", "klik hier", "klik", "lees meer", "meer", "lees verder", "meer info", "meer lezen",
    "link", "deze link", "via deze link", "here", "click here", "read more", "more",
})
_PROBE_SITE = Settings(base_url="https://digiweetjes.example.be")
#: A long but realistic recipient, so the size check measures what the largest mail weighs.
_SIZE_PROBE = RecipientData(
    email="voornaam.achternaam@lokaal-bestuur.example.be",
    name="Voornaam Met Een Lange Dubbele Achternaam",
    subregion="west",
    unsubscribe_url=unsubscribe_url(_PROBE_SITE, "x" * 120),
    preferences_url=preferences_url(_PROBE_SITE, "x" * 120),
)


class _Page(HTMLParser):
    """Collects what the gate inspects: lang, images, headings, links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.images: list[dict[str, str | None]] = []
        self.headings: list[tuple[int, str]] = []
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self._heading: int | None = None
        self._link: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"] or "")
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag == "img":
            self.images.append(attributes)
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading, self._text = int(tag[1]), []
        elif tag == "a":
            self._link, self._text = attributes.get("href") or "", []

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._text).split())
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((self._heading, text))
            self._heading = None
        elif tag == "a" and self._link is not None:
            self.links.append((self._link, text))
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None or self._link is not None:
            self._text.append(data)


def inspect_html(html: str) -> list[str]:
    """Accessibility and safety problems of one rendered HTML part."""
    page = _Page()
    page.feed(html)
    problems: list[str] = []
    if not page.lang or not page.lang.lower().startswith("nl"):
        problems.append(f"the HTML has no Dutch lang attribute (found: {page.lang!r})")
    for image in page.images:
        if not (image.get("alt") or "").strip():
            problems.append(f"image {image.get('src')!r} has no alt text")
    previous = 0
    for level, text in page.headings:
        if previous == 0 and level != 1:
            problems.append(f"the first heading is h{level} ({text!r}); it must be h1")
        elif level > previous + 1 and previous:
            problems.append(f"heading order skips a level: h{previous} then h{level} ({text!r})")
        previous = level
    for href, text in page.links:
        if href.startswith("#"):
            # The contents list jumps within the mail: the target must exist in it.
            if href[1:] not in page.ids:
                problems.append(f"link {href!r} points to no place in the email")
        elif not (href.startswith(("https://", "mailto:")) or _loopback(href)):
            problems.append(f"link {href!r} is not https:// or mailto:")
        bare = re.sub(r"[^\w\s]", "", text).strip().lower()
        if bare in BARE_LINK_TEXTS:
            problems.append(f"link text {text!r} says nothing out of context ({href})")
        if not bare:
            problems.append(f"link {href!r} has no text")
    return problems


def _loopback(href: str) -> bool:
    """An http link to this machine: a web app run locally (tests, a demo) has no https, and
    such a link cannot leak a token over the network."""
    try:
        parts = urlsplit(href)
        return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    except ValueError:
        return False


def check_compiled(compiled: CompiledIssue) -> list[str]:
    """Problems of a compiled issue: placeholders, parts, size, accessibility."""
    problems: list[str] = []
    for part, template in (("HTML", compiled.html), ("text", compiled.text)):
        missing = set(PLACEHOLDERS) - template.names
        unknown = template.names - set(PLACEHOLDERS)
        if missing:
            problems.append(f"the {part} part lost placeholders: {', '.join(sorted(missing))}")
        if unknown:
            problems.append(f"the {part} part has unknown placeholders: "
                            f"{', '.join(sorted(unknown))}")
    message = personalize(compiled, _SIZE_PROBE)
    for part, body in (("HTML", message.html), ("text", message.text)):
        if PLACEHOLDER_OPEN in body or PLACEHOLDER_CLOSE in body:
            problems.append(f"the {part} part still holds a placeholder after personalizing")
    if not message.text.strip():
        problems.append("the text part is empty")
    elif _SIZE_PROBE.unsubscribe_url not in message.text:
        problems.append("the text part has no unsubscribe link")
    if _SIZE_PROBE.unsubscribe_url not in message.html:
        problems.append("the HTML part has no unsubscribe link")
    size = len(message.html.encode("utf-8"))
    if size >= GMAIL_CLIP_BYTES:
        problems.append(f"the HTML is {size / 1024:.0f} KB; Gmail clips messages over "
                        f"{GMAIL_CLIP_BYTES // 1024} KB: shorten the issue")
    if "\r" in compiled.subject or "\n" in compiled.subject:
        problems.append("the subject contains a line break")
    problems.extend(inspect_html(message.html))
    return problems


@dataclass(frozen=True)
class CheckReport:
    issue: str
    problems: list[str]
    html_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check_issue(path: Path, settings: Settings) -> CheckReport:
    """Run the whole gate on one draft file; content errors become problems, not exceptions."""
    display = str(path)
    try:
        source = read_issue(settings.issues_dir, path)
        display = source.draft.display_path
        compiled = compile_issue(source, settings)
    except ContentErrors as exc:
        return CheckReport(display, [str(e) for e in exc.errors])
    except (ContentError, DigiweetjesError) as exc:
        return CheckReport(display, [str(exc)])
    problems = [f"{display}: {p}" for p in check_compiled(compiled)]
    size = len(personalize(compiled, _SIZE_PROBE).html.encode("utf-8"))
    return CheckReport(display, problems, html_bytes=size)
