"""The release gate: ``check_issue`` lists every problem that must be fixed before sending."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from digiweetjes.config import Settings
from digiweetjes.content import read_editor_text
from digiweetjes.content.drafts import SCAFFOLD_INTRO, SCAFFOLD_PREHEADER, Draft
from digiweetjes.content.plainlanguage import load_word_list, plain_language
from digiweetjes.content.source import IssueSource, read_issue
from digiweetjes.errors import CheckFailed, ContentError, ContentErrors, DigiweetjesError
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


@dataclass(frozen=True)
class Problem:
    """One gate problem; ``anchor`` says where in the draft it comes from, when it does:
    ``("link", href, text)``, ``("heading", text)``, ``("phrase", text)`` or ``("body",)``."""

    message: str
    anchor: tuple[str, ...] = ()


def inspect_html(html: str) -> list[str]:
    """Accessibility and safety problems of one rendered HTML part."""
    return [p.message for p in _inspect(html)]


def _inspect(html: str) -> list[Problem]:
    page = _Page()
    page.feed(html)
    problems: list[Problem] = []
    if not page.lang or not page.lang.lower().startswith("nl"):
        problems.append(Problem(f"de HTML heeft geen Nederlandstalig lang-attribuut (gevonden: "
                                f"{page.lang!r})"))
    for image in page.images:
        if not (image.get("alt") or "").strip():
            problems.append(Problem(f"afbeelding {image.get('src')!r} heeft geen beschrijving "
                                    "(alt-tekst)"))
    previous = 0
    for level, text in page.headings:
        if previous == 0 and level != 1:
            problems.append(Problem(f"de eerste titel is h{level} ({text!r}); dat moet h1 zijn",
                                    ("heading", text)))
        elif level > previous + 1 and previous:
            problems.append(Problem(f"de titels slaan een niveau over: h{previous} en dan "
                                    f"h{level} ({text!r}): gebruik {'#' * (previous + 1)}",
                                    ("heading", text)))
        previous = level
    for href, text in page.links:
        anchor = ("link", href, text)
        if href.startswith("#"):
            # The contents list jumps within the mail: the target must exist in it.
            if href[1:] not in page.ids:
                problems.append(Problem(f"link {href!r} wijst naar geen plaats in de e-mail",
                                        anchor))
        elif not (href.startswith(("https://", "mailto:")) or _loopback(href)):
            problems.append(Problem(f"link {href!r} is geen https://- of mailto:-link", anchor))
        bare = re.sub(r"[^\w\s]", "", text).strip().lower()
        if bare in BARE_LINK_TEXTS:
            problems.append(Problem(f"linktekst {text!r} zegt niets buiten de zin: schrijf waar "
                                    f"de link naartoe gaat ({href})", anchor))
        if not bare:
            problems.append(Problem(f"link {href!r} heeft geen tekst", anchor))
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
    """Problems of a compiled issue: placeholders, parts, size, accessibility, the scaffold."""
    return [p.message for p in compiled_problems(compiled)]


def compiled_problems(compiled: CompiledIssue) -> list[Problem]:
    """``check_compiled`` with, for each problem, where in the draft it comes from."""
    problems: list[Problem] = []
    for part, template in (("HTML", compiled.html), ("tekst", compiled.text)):
        missing = set(PLACEHOLDERS) - template.names
        unknown = template.names - set(PLACEHOLDERS)
        if missing:
            problems.append(Problem(f"het {part}-deel mist invulvelden: "
                                    f"{', '.join(sorted(missing))} (kijk de template na)"))
        if unknown:
            problems.append(Problem(f"het {part}-deel heeft onbekende invulvelden: "
                                    f"{', '.join(sorted(unknown))} (kijk de template na)"))
    message = personalize(compiled, _SIZE_PROBE)
    for part, body in (("HTML", message.html), ("tekst", message.text)):
        if PLACEHOLDER_OPEN in body or PLACEHOLDER_CLOSE in body:
            problems.append(Problem(f"het {part}-deel heeft na het invullen nog een invulveld"))
    if not message.text.strip():
        problems.append(Problem("het tekstdeel is leeg"))
    elif _SIZE_PROBE.unsubscribe_url not in message.text:
        problems.append(Problem("het tekstdeel heeft geen uitschrijflink"))
    if _SIZE_PROBE.unsubscribe_url not in message.html:
        problems.append(Problem("het HTML-deel heeft geen uitschrijflink"))
    size = len(message.html.encode("utf-8"))
    if size >= GMAIL_CLIP_BYTES:
        problems.append(Problem(f"de HTML is {size / 1024:.0f} KB; Gmail knipt berichten boven "
                                f"{GMAIL_CLIP_BYTES // 1024} KB af: maak de editie korter",
                                ("body",)))
    if "\r" in compiled.subject or "\n" in compiled.subject:
        problems.append(Problem("het onderwerp bevat een regeleinde", ("phrase", "title:")))
    if compiled.preheader.startswith(SCAFFOLD_PREHEADER[:11]):
        problems.append(Problem("de preheader is nog de voorbeeldzin van `digiweetjes new`: "
                                "schrijf één zin die de lezer in de inbox naast de titel ziet",
                                ("phrase", "preheader:")))
    flat_html = " ".join(message.html.split())
    intro = SCAFFOLD_INTRO[:25]
    if intro in flat_html:
        problems.append(Problem("de inleiding is nog de voorbeeldtekst van `digiweetjes new`: "
                                "schrijf je eigen inleiding", ("phrase", intro)))
    problems.extend(_inspect(message.html))
    return problems


@dataclass(frozen=True)
class CheckReport:
    issue: str
    problems: list[str]
    html_bytes: int = 0
    warnings: list[str] = field(default_factory=list)   # B1 language: never refuse
    summary: str | None = None                          # the B1 score line

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
    return check_source(source, compiled, settings)


def check_source(source: IssueSource, compiled: CompiledIssue,
                 settings: Settings) -> CheckReport:
    """The gate of an issue already read and compiled: each problem at its line in the draft,
    and the B1 language warnings."""
    draft = source.draft
    lines = _draft_lines(draft)
    problems = [_located(draft, lines, p) for p in compiled_problems(compiled)]
    size = len(personalize(compiled, _SIZE_PROBE).html.encode("utf-8"))
    b1 = plain_language(draft, lines, source.projects, load_word_list(settings.issues_dir))
    return CheckReport(draft.display_path, problems, html_bytes=size,
                       warnings=b1.warnings, summary=b1.summary)


def _located(draft: Draft, lines: list[str], problem: Problem) -> str:
    """``file:line: message``; a problem not in the draft (a template's) says so."""
    line = _line_of(draft, lines, problem.anchor)
    if line is not None:
        return f"{draft.display_path}:{line}: {problem.message}"
    return (f"{draft.display_path}: {problem.message} (niet in de draft: in projects.yaml of "
            "een template)")


def _line_of(draft: Draft, lines: list[str], anchor: tuple[str, ...]) -> int | None:
    body = draft.body
    if not anchor:
        return None
    kind = anchor[0]
    if kind == "body":
        return body.first_line
    if kind == "phrase":
        return next((n for n, text in enumerate(lines, start=1) if anchor[1] in text), None)
    if kind == "heading":
        wanted = " ".join(anchor[1].split())
        return next((line for (_, text), line in zip(body.headings, body.heading_lines,
                                                      strict=False)
                     if " ".join(text.split()) == wanted), None)
    href, text = anchor[1], " ".join(anchor[2].split())
    same_href = [(" ".join(shown.split()), line) for (target, shown), line
                 in zip(body.links, body.link_lines, strict=False) if target == href]
    exact = [line for shown, line in same_href if shown == text]
    # Markdown and HTML may spell the text a little differently (entities, spacing).
    near = [line for shown, line in same_href if shown and (shown in text or text in shown)]
    return (exact or near or [None])[0]


def refuse_failing(issues: Iterable[tuple[IssueSource, CompiledIssue]]) -> None:
    """CheckFailed naming every problem of every issue, if any fails the gate (``build``)."""
    problems: list[str] = []
    failing = 0
    for source, compiled in issues:
        lines = _draft_lines(source.draft)
        found = [_located(source.draft, lines, p) for p in compiled_problems(compiled)]
        failing += bool(found)
        problems.extend(found)
    if problems:
        what = "editie haalt" if failing == 1 else "edities halen"
        raise CheckFailed([f"niets gepubliceerd: {failing} {what} `digiweetjes check` niet",
                           *problems])


def _draft_lines(draft: Draft) -> list[str]:
    try:
        return read_editor_text(draft.path, draft.display_path).splitlines()
    except ContentError:  # gone since it was read: the problems keep their messages
        return []
