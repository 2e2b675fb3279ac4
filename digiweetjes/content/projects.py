"""The project-status data (``issues/projects.yaml``): its schema and loader.

Dated facts (updates, a period's start and end) keep the source's precision (``SourceDate``) and
carry their source; a fact without one of its own gets the file's ``default_source``.
"""

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
from digiweetjes.content.sourcedates import SourceDate
from digiweetjes.content.urls import LinkUrl, allowed_url
from digiweetjes.content.yamlsource import format_loc, load_yaml, validate
from digiweetjes.errors import ContentError
from digiweetjes.suggest import did_you_mean

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"'{value}' is geen e-mailadres (bv. naam@gemeente.be)")
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
        """Ends in its preposition: templates go on with "deze e-inclusieprojecten"."""
        return _TIER_LABELS[self][0]

    @property
    def heading(self) -> str:
        """Stands alone, for a table's group heading."""
        return _TIER_LABELS[self][1]


_TIER_LABELS = {
    Tier.BETROKKEN: ("Werkkracht10 is betrokken bij", "Werkkracht10 is betrokken"),
    Tier.VOELING: ("Werkkracht10 houdt voeling met", "Werkkracht10 houdt voeling"),
    Tier.VINGER: ("Werkkracht10 houdt de vinger aan de pols bij",
                  "Werkkracht10 houdt de vinger aan de pols"),
}


class Source(Strict):
    """Where a dated fact comes from: a short text, a link, or both (``text`` is shown)."""

    text: Text
    url: LinkUrl | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: object) -> object:
        # `source: https://...` or `source: e-inclusie.be, pagina ...`: one line is the usual case.
        if not isinstance(value, str):
            return value
        stripped = value.strip()
        if re.match(r"^[a-z][a-z0-9+.-]*:", stripped, re.IGNORECASE) and " " not in stripped:
            if not allowed_url(stripped, allow_mailto=False):
                raise ValueError(f"'{stripped}' moet een https://-adres zijn, of gewoon tekst")
            shown = re.sub(r"^https://(www\.)?", "", stripped, flags=re.IGNORECASE).rstrip("/")
            return {"text": shown, "url": stripped}
        return {"text": stripped}


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
    start: SourceDate | None = None
    end: SourceDate | None = None
    description: Text | None = None
    extension: Text | None = None
    source: Source | None = None


class Update(Strict):
    date: SourceDate
    text: Text
    source: Source | None = None


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
            raise ValueError(budget_hint(value))
        return value

    @property
    def latest_update(self) -> Update | None:
        return max(self.updates, key=lambda u: u.date, default=None)

    def updates_since(self, since: date | None) -> tuple[Update, ...]:
        """Updates that may lie after ``since`` (all of them when None), newest first.

        A month, season or year counts as after ``since`` when its last day is: see sourcedates.
        """
        chosen = [u for u in self.updates if since is None or u.date.after(since)]
        return tuple(sorted(chosen, key=lambda u: u.date, reverse=True))


_AMOUNT_WORDS = re.compile(r"^(\d+(?:,\d+)?)\s*(miljoen|miljard)$")
_GROUPED = re.compile(r"^\d{1,3}(?:[. ]\d{3})+$")


def budget_hint(value: object) -> str:
    """The Dutch refusal of a budget that is not a whole number, with the expected form."""
    text = " ".join(str(value).lower().replace("€", " ").replace("euro", " ").split())
    expected: int | None = None
    if _GROUPED.match(text):
        expected = int(re.sub(r"[. ]", "", text))
        return f"schrijf het bedrag zonder punten: {expected}"
    if match := _AMOUNT_WORDS.match(text):
        number, unit = match.groups()
        factor = 1_000_000 if unit == "miljoen" else 1_000_000_000
        whole, _, decimals = number.partition(",")
        expected = int(whole) * factor + int((decimals or "0").ljust(9, "0")[:9]) * factor // 10**9
        return f"schrijf het bedrag als getal in hele euro: {expected}"
    if isinstance(value, float):
        # YAML reads 250.000 as the float 250.0: the points cannot be recovered from it.
        return ("schrijf het bedrag in hele euro, zonder punten of komma's "
                "(bv. 250000 of 2890000 voor 2,89 miljoen)")
    return "moet een getal zijn: het bedrag in hele euro, zonder punten (bv. 50000000)"


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
    default_source: Source | None = None   # for every dated fact without a source of its own

    @model_validator(mode="after")
    def _references(self) -> ProjectsFile:
        threshold_ids = {t.id for t in self.thresholds}
        subregion_ids = {s.id for s in self.region.subregions}
        seen: set[str] = set()
        for index, project in enumerate(self.projects):
            if project.id in seen:
                raise ValueError(f"projects[{index}].id: de id '{project.id}' staat er al: "
                                 "geef elke projectoproep een eigen id")
            seen.add(project.id)
            for t_index, threshold in enumerate(project.thresholds):
                if threshold not in threshold_ids:
                    raise ValueError(
                        f"projects[{index}].thresholds[{t_index}]: onbekende drempel "
                        f"'{threshold}'{did_you_mean(threshold, threshold_ids)} "
                        f"(gekend: {', '.join(sorted(threshold_ids))})")
            for c_index, contact in enumerate(project.contacts):
                if contact.subregion and contact.subregion not in subregion_ids:
                    raise ValueError(
                        f"projects[{index}].contacts[{c_index}].subregion: onbekende subregio "
                        f"'{contact.subregion}'{did_you_mean(contact.subregion, subregion_ids)} "
                        f"(gekend: {', '.join(sorted(subregion_ids))})")
        return self


class ProjectData:
    """The loaded project-status data, with look-ups the templates need."""

    def __init__(self, parsed: ProjectsFile, path: Path) -> None:
        self.path = path
        self.projects = tuple(_with_sources(p, parsed.default_source) for p in parsed.projects)
        self.default_source = parsed.default_source
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


def _with_sources(project: Project, default: Source | None) -> Project:
    """The project with ``default`` as the source of every dated fact that names none."""
    if default is None:
        return project
    updates = tuple(u if u.source else u.model_copy(update={"source": default})
                    for u in project.updates)
    period = project.period
    if period.source is None and (period.start or period.end):
        period = period.model_copy(update={"source": default})
    return project.model_copy(update={"updates": updates, "period": period})


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
    # The 0-based path locates the line; the editor reads positions from 1 (``format_loc``).
    return ContentError(reason, path=error.path, line=doc.line_of(loc), field=format_loc(loc))
