"""The project-status data (``issues/projects.yaml``): its schema and loader."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from digiweetjes.content import display_path, read_editor_text
from digiweetjes.content.region import Region, Subregion
from digiweetjes.content.urls import LinkUrl
from digiweetjes.content.yamlsource import load_yaml, validate
from digiweetjes.errors import ContentError

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("must be an email address")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(StrEnum):
    """How closely Werkkracht10 is involved in a project call (the seed's three groups)."""

    BETROKKEN = "betrokken"   # "is betrokken bij"
    VOELING = "voeling"       # "houdt voeling met"
    VINGER = "vinger"         # "houdt de vinger aan de pols bij"

    @property
    def label(self) -> str:
        return _TIER_LABELS[self]


_TIER_LABELS = {
    Tier.BETROKKEN: "Werkkracht10 is betrokken bij",
    Tier.VOELING: "Werkkracht10 houdt voeling met",
    Tier.VINGER: "Werkkracht10 houdt de vinger aan de pols bij",
}


class Threshold(Strict):
    id: Slug
    name: Text
    description: Text


class Contact(Strict):
    name: Text
    email: Text
    municipalities: tuple[Text, ...] = ()
    subregion: Slug | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _check_email(value)


class Period(Strict):
    start: date | None = None
    end: date | None = None
    description: Text | None = None
    extension: Text | None = None


class Update(Strict):
    date: date
    text: Text


class Project(Strict):
    id: Slug
    name: Text
    tier: Tier
    budget_eur: Annotated[int, Field(ge=0, strict=True)] | None = None
    budget_note: Text | None = None
    policy_domain: Text | None = None
    minister: Text | None = None
    target_group: Text
    objectives_intro: Text | None = None
    objectives: tuple[Text, ...] = ()
    regional_story: Text | None = None
    period: Period = Period()
    contacts: tuple[Contact, ...] = ()
    thresholds: tuple[Slug, ...] = ()
    updates: tuple[Update, ...] = ()
    more_info: Text | None = None

    @field_validator("budget_eur", mode="before")
    @classmethod
    def _budget_number(cls, value: object) -> object:
        # YAML reads "50 miljoen" or "2,89" as text: that must be refused, not guessed.
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("must be a number (whole euros, e.g. 50000000)")
        return value

    @property
    def latest_update(self) -> Update | None:
        return max(self.updates, key=lambda u: u.date, default=None)

    def updates_since(self, since: date | None) -> tuple[Update, ...]:
        """Updates dated after ``since`` (all of them when None), newest first."""
        chosen = [u for u in self.updates if since is None or u.date > since]
        return tuple(sorted(chosen, key=lambda u: u.date, reverse=True))


class RegionData(Strict):
    name: Text
    subregions: tuple[_SubregionData, ...]


class _SubregionData(Strict):
    id: Slug
    name: Text
    digibank: Text
    contact_email: Text   # shown as a mailto: link: checked like a contact's address
    municipalities: tuple[Text, ...]

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _check_email(value)


RegionData.model_rebuild()


class ProjectsFile(Strict):
    region: RegionData
    thresholds: tuple[Threshold, ...]
    projects: tuple[Project, ...]
    source_url: LinkUrl | None = None   # a link on the public site: https:// or mailto:

    @model_validator(mode="after")
    def _references(self) -> ProjectsFile:
        threshold_ids = {t.id for t in self.thresholds}
        subregion_ids = {s.id for s in self.region.subregions}
        seen: set[str] = set()
        for index, project in enumerate(self.projects):
            if project.id in seen:
                raise ValueError(f"projects[{index}].id: duplicate project id '{project.id}'")
            seen.add(project.id)
            for t_index, threshold in enumerate(project.thresholds):
                if threshold not in threshold_ids:
                    raise ValueError(
                        f"projects[{index}].thresholds[{t_index}]: unknown threshold "
                        f"'{threshold}' (known: {', '.join(sorted(threshold_ids))})")
            for c_index, contact in enumerate(project.contacts):
                if contact.subregion and contact.subregion not in subregion_ids:
                    raise ValueError(f"projects[{index}].contacts[{c_index}].subregion: "
                                     f"unknown subregion '{contact.subregion}'")
        return self


class ProjectData:
    """The loaded project-status data, with look-ups the templates need."""

    def __init__(self, parsed: ProjectsFile, path: Path) -> None:
        self.path = path
        self.projects = parsed.projects
        self.thresholds = parsed.thresholds
        self.source_url = parsed.source_url
        self.region = Region(
            name=parsed.region.name,
            subregions=tuple(
                Subregion(id=s.id, name=s.name, digibank=s.digibank,
                          contact_email=s.contact_email, municipalities=s.municipalities)
                for s in parsed.region.subregions),
        )
        self._by_id = {p.id: p for p in self.projects}
        self._thresholds = {t.id: t for t in self.thresholds}

    def get(self, project_id: str) -> Project | None:
        return self._by_id.get(project_id)

    def threshold(self, threshold_id: str) -> Threshold:
        return self._thresholds[threshold_id]

    def by_tier(self) -> list[tuple[Tier, list[Project]]]:
        """Projects grouped by tier, closest involvement first, file order within a tier."""
        return [(tier, [p for p in self.projects if p.tier is tier]) for tier in Tier]

    def updates_since(self, since: date | None) -> list[tuple[Project, Update]]:
        """Every update dated after ``since`` (all when None), newest first."""
        changes = [(p, u) for p in self.projects for u in p.updates_since(since)]
        changes.sort(key=lambda change: change[1].date, reverse=True)
        return changes


def load_projects(path: Path) -> ProjectData:
    """Read and validate projects.yaml; errors name the file, the line and the field."""
    display = display_path(path)
    doc = load_yaml(read_editor_text(path, display), display)
    try:
        parsed = validate(ProjectsFile, doc)
    except ContentError as exc:
        raise _relocate_reference_error(exc, doc) from exc.__cause__
    return ProjectData(parsed, path)


def _relocate_reference_error(error: ContentError, doc) -> ContentError:
    """Cross-reference errors carry their own field path in the message; give them its line."""
    match = re.match(r"^([a-z_]+(?:\[\d+\]|\.[a-z_]+)*): (.*)$", error.reason or "")
    if error.field or not match:
        return error
    field, reason = match.groups()
    loc: list[int | str] = []
    for name, index in re.findall(r"\.?([a-z_]+)|\[(\d+)\]", field):
        loc.append(int(index) if index else name)
    return ContentError(reason, path=error.path, line=doc.line_of(loc), field=field)
