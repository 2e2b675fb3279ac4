"""Drafts: ``issues/<date>-<slug>.md`` files with YAML front matter and a Markdown body."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from digiweetjes.config import BRUSSELS
from digiweetjes.content import display_path, read_editor_text
from digiweetjes.content.markdown import MarkdownResult, render_markdown
from digiweetjes.content.projects import ProjectData, Slug
from digiweetjes.content.yamlsource import YamlDocument, format_loc, load_yaml, validate
from digiweetjes.errors import ContentError, ContentErrors
from digiweetjes.suggest import did_you_mean

DRAFT_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
OneLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Audience(BaseModel):
    """Who receives the issue: everyone, or only these municipalities / subregions / topics."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    municipalities: tuple[str, ...] = ()
    subregions: tuple[Slug, ...] = ()
    topics: tuple[Slug, ...] = ()

    @property
    def everyone(self) -> bool:
        return not (self.municipalities or self.subregions or self.topics)


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: OneLine = Field(max_length=150)
    # At most nine digits: the number names the provider tag and is looked up as text.
    number: Annotated[int, Field(ge=1, le=999_999_999, strict=True)]
    date: date
    preheader: OneLine = Field(max_length=200)
    featured: tuple[Slug, ...] = ()
    audience: Audience = Audience()
    send_at: datetime | None = None
    changes_since: date | None = None
    status: Annotated[str, StringConstraints(pattern="^(draft|approved)$")] = "draft"

    @field_validator("title", "preheader", mode="before")
    @classmethod
    def _one_line(cls, value: object) -> object:
        if isinstance(value, str) and ("\r" in value or "\n" in value):
            raise ValueError("moet op één regel staan (zonder regeleinde): het wordt een "
                             "kopregel van de e-mail")
        return value

    @field_validator("send_at")
    @classmethod
    def _local_time(cls, value: datetime | None) -> datetime | None:
        # Editors write Brussels time; a time without zone means Brussels, not UTC.
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=BRUSSELS)
        return value


class Draft:
    """A parsed, validated draft: front matter, body HTML and text, and where it came from."""

    def __init__(self, path: Path, display: str, meta: FrontMatter, body: MarkdownResult,
                 slug: str) -> None:
        self.path = path
        self.display_path = display
        self.meta = meta
        self.body = body
        self.slug = slug

    @property
    def issue_id(self) -> str:
        """Stable id: the file name without ``.md`` (date and slug)."""
        return self.path.stem

    @property
    def send_at(self) -> datetime:
        """When to send: the front matter's time, or 09:00 Brussels time on the issue date."""
        if self.meta.send_at is not None:
            return self.meta.send_at
        return datetime.combine(self.meta.date, time(9, 0), tzinfo=BRUSSELS)


def split_front_matter(text: str, display: str) -> tuple[str, str, int]:
    """Return (front matter YAML, body, number of file lines before the body)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ContentError("moet beginnen met een regel '---' die de kop (front matter) opent",
                           path=display, line=1)
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1:]), index + 1
    raise ContentError("de kop (front matter) wordt niet gesloten met een regel '---'",
                       path=display, line=1)


def load_draft(path: Path, projects: ProjectData) -> Draft:
    """Read and validate a draft; every problem names the file, the line and the field."""
    display = display_path(path)
    match = DRAFT_NAME.match(path.name)
    if not match:
        raise ContentError("de bestandsnaam moet JJJJ-MM-DD-titel.md zijn (kleine letters, "
                           "cijfers en koppeltekens, zoals 2027-03-01-nieuws-digibanken.md)",
                           path=display)
    text = read_editor_text(path, display)
    front, body, body_offset = split_front_matter(text, display)
    doc = load_yaml(front, display, line_offset=1)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise ContentError("de kop moet bestaan uit regels 'veld: waarde'", path=display,
                           line=2)
    meta: FrontMatter = validate(FrontMatter, doc)

    errors = _reference_errors(meta, doc, projects, display)
    if meta.date.isoformat() != match.group(1):
        errors.append(ContentError(
            f"datum {meta.date.isoformat()} verschilt van de datum in de bestandsnaam "
            f"({match.group(1)}): maak ze gelijk", path=display, line=doc.line_of(("date",)),
            field="date"))
    try:
        rendered = render_markdown(body, path=display, line_offset=body_offset)
    except ContentErrors as exc:
        errors.extend(exc.errors)
    except ContentError as exc:
        errors.append(exc)
    else:
        if not body.strip():
            errors.append(ContentError("de draft heeft geen tekst onder de kop",
                                       path=display, line=body_offset, field="tekst"))
    if errors:
        raise errors[0] if len(errors) == 1 else ContentErrors(errors)
    return Draft(path, display, meta, rendered, slug=match.group(2))



def _reference_errors(meta: FrontMatter, doc: YamlDocument, projects: ProjectData,
                      display: str) -> list[ContentError]:
    """Names in the front matter that projects.yaml does not know, each with the closest one."""
    errors: list[ContentError] = []
    project_ids = [p.id for p in projects.projects]
    for index, project_id in enumerate(meta.featured):
        if projects.get(project_id) is None:
            errors.append(ContentError(
                f"onbekend project '{project_id}'{did_you_mean(project_id, project_ids)} "
                f"(bekende projecten: {', '.join(project_ids)})", path=display,
                line=doc.line_of(("featured", index)), field=format_loc(("featured", index))))
    municipalities = projects.region.municipalities
    for index, name in enumerate(meta.audience.municipalities):
        if projects.region.canonical_municipality(name) is None:
            loc = ("audience", "municipalities", index)
            errors.append(ContentError(
                f"onbekende gemeente '{name}'{did_you_mean(name, municipalities)} "
                f"(bekende gemeenten: {', '.join(municipalities)})", path=display,
                line=doc.line_of(loc), field=format_loc(loc)))
    subregions = sorted(s.id for s in projects.region.subregions)
    for index, subregion in enumerate(meta.audience.subregions):
        if subregion not in subregions:
            loc = ("audience", "subregions", index)
            errors.append(ContentError(
                f"onbekende subregio '{subregion}'{did_you_mean(subregion, subregions)} "
                f"(bekende subregio's: {', '.join(subregions)})", path=display,
                line=doc.line_of(loc), field=format_loc(loc)))
    return errors


#: The scaffold's placeholder texts: the release gate refuses a draft that still has them.
SCAFFOLD_PREHEADER = "Eén zin die in de inbox naast de titel verschijnt."
SCAFFOLD_INTRO = "Schrijf hier de inleiding van dit Digi-weetje."
_SCAFFOLD = """\
---
title: "{title}"
number: {number}
date: {date}
preheader: {preheader}
featured: []
status: draft
---
## Inleiding

{intro} Gebruik `##` voor tussentitels,
geef elke afbeelding een beschrijving (`![wat er te zien is](https://...)`) en
schrijf linkteksten die zeggen waar de link naartoe gaat.
"""


def scaffold(title: str, number: int, day: date) -> str:
    """The text of a new draft (``digiweetjes new``)."""
    return _SCAFFOLD.format(title=title, number=number, date=day.isoformat(),
                            preheader=SCAFFOLD_PREHEADER, intro=SCAFFOLD_INTRO)
