"""The content read step: the issues folder (drafts and projects.yaml) is read here and only here.

``read_issue`` gives one issue's inputs: its draft, the project data and the previous issue's
date. ``read_all_issues`` reads every draft for the archive with projects.yaml read once.
Compiling (``render.compile_issue``) then touches no file but the templates.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from digiweetjes.config import PROJECTS_FILE
from digiweetjes.content import display_path, peek_text
from digiweetjes.content.drafts import DRAFT_NAME, Draft, load_draft, split_front_matter
from digiweetjes.content.projects import ProjectData, load_projects
from digiweetjes.content.yamlsource import load_plain
from digiweetjes.errors import ContentError, ContentErrors
from digiweetjes.suggest import did_you_mean

APPROVED = "approved"
# A peek at ``number:`` without validating the draft; nine digits at most, so a 5,000-digit
# number is not converted here (the full load reports it at its line).
_NUMBER = re.compile(r"^number:[ \t]*(\d{1,9})[ \t]*(?:#.*)?$", re.MULTILINE)


@dataclass(frozen=True)
class IssueSource:
    """Everything one issue is compiled from, read and validated."""

    draft: Draft
    projects: ProjectData
    previous_date: date | None   # the issue before this one, for "Nieuw sinds de vorige"

    @property
    def issue_id(self) -> str:
        return self.draft.issue_id


@dataclass(frozen=True)
class IssueFolder:
    """The whole issues folder as the archive needs it."""

    projects: ProjectData
    issues: tuple[IssueSource, ...]           # oldest first (by file name)
    unapproved: tuple[tuple[str, str], ...]   # (file name, status) of drafts left unread


def projects_file(issues_dir: Path) -> Path:
    """Where the project-status data lives."""
    return issues_dir / PROJECTS_FILE


def read_projects(issues_dir: Path) -> ProjectData:
    """The folder's projects.yaml, validated."""
    return load_projects(projects_file(issues_dir))


def list_drafts(issues_dir: Path) -> list[Path]:
    """Draft files in the issues folder, oldest first."""
    return sorted(p for p in issues_dir.glob("*.md") if DRAFT_NAME.match(p.name))


def resolve_draft(issues_dir: Path, name: str) -> Path:
    """A draft given as a path, a file name, an issue id or an issue number."""
    candidate = Path(name)
    if candidate.suffix == ".md" and candidate.exists():
        return candidate
    drafts = list_drafts(issues_dir)
    for path in drafts:
        if name in (path.name, path.stem):
            return path
    if name.isdigit() and len(name) <= 9:
        matches = [path for path in drafts if peek_number(path)[0] == int(name)]
        if len(matches) > 1:
            raise ContentError(f"nummer {int(name)} staat in meer dan één bestand "
                               f"({', '.join(p.name for p in matches)}): geef elke editie een "
                               "eigen nummer")
        if matches:
            return matches[0]
    hint = did_you_mean(name, [p.stem for p in drafts]) if not name.isdigit() else ""
    raise ContentError(f"geen draft '{name}' in {display_path(issues_dir)}{hint}: geef een pad, "
                       "een bestandsnaam zoals 2026-12-05-titel.md of een nummer (`digiweetjes "
                       "drafts` toont ze)")


def next_draft_number(issues_dir: Path) -> int:
    """One more than the highest ``number:`` among the drafts (without validating them)."""
    return latest_issue(issues_dir).number + 1


@dataclass(frozen=True)
class LatestIssue:
    """Where a new issue's number and date follow on (without validating the drafts)."""

    number: int                  # the highest number (0: no drafts)
    number_file: str | None      # the draft that has it
    date: date | None            # the latest date in a draft's file name
    date_file: str | None


def latest_issue(issues_dir: Path) -> LatestIssue:
    """The highest number and the latest date among the drafts."""
    number, number_file, day, day_file = 0, None, None, None
    for path in list_drafts(issues_dir):
        found = peek_number(path)[0]
        if found is not None and found > number:
            number, number_file = found, path.name
        try:
            this_day = date.fromisoformat(path.name[:10])
        except ValueError:  # "2026-13-45-…": loading the draft reports it
            continue
        if day is None or this_day > day:
            day, day_file = this_day, path.name
    return LatestIssue(number, number_file, day, day_file)


def taken_numbers(issues_dir: Path) -> dict[int, str]:
    """Number → file name of every draft that has one."""
    return {number: path.name for path in list_drafts(issues_dir)
            if (number := peek_number(path)[0]) is not None}


def peek_number(path: Path) -> tuple[int | None, int | None]:
    """A draft's ``number:`` and its line, without validating it; (None, None) if not found."""
    text = peek_text(path)
    match = _NUMBER.search(text)
    if match is None:
        return None, None
    return int(match.group(1)), text.count("\n", 0, match.start()) + 1


def duplicate_numbers(drafts: Sequence[Path]) -> dict[Path, ContentError]:
    """For each draft whose number another draft carries too, the error naming both."""
    by_number: dict[int, list[tuple[Path, int | None]]] = {}
    for path in drafts:
        number, line = peek_number(path)
        if number is not None:
            by_number.setdefault(number, []).append((path, line))
    errors: dict[Path, ContentError] = {}
    for number, holders in by_number.items():
        if len(holders) < 2:
            continue
        for path, line in holders:
            others = ", ".join(other.name for other, _ in holders if other != path)
            errors[path] = ContentError(
                f"nummer {number} staat ook in {others}: geef elke editie een eigen nummer",
                path=display_path(path), line=line, field="number")
    return errors


def previous_issue_date(drafts: Sequence[Path], draft: Path) -> date | None:
    """The date of the draft before ``draft`` by file name, among ``drafts`` (sorted)."""
    earlier = [p for p in drafts if p.name < draft.name]
    if not earlier:
        return None
    return date.fromisoformat(earlier[-1].name[:10])


def read_issue(issues_dir: Path, ref: str | Path) -> IssueSource:
    """One issue's inputs; a ``str`` is resolved like ``resolve_draft``, a ``Path`` taken as is."""
    path = ref if isinstance(ref, Path) else resolve_draft(issues_dir, ref)
    projects = read_projects(issues_dir)
    draft = load_draft(path, projects)
    drafts = list_drafts(issues_dir)
    others = [p for p in drafts if p.resolve() != path.resolve()]
    duplicate = duplicate_numbers([path, *others]).get(path)
    if duplicate is not None:
        raise duplicate  # which of the two is meant is for the editor to say, not a guess
    return IssueSource(draft, projects, previous_issue_date(drafts, path))


def read_all_issues(issues_dir: Path, *, include_unapproved: bool = True,
                    only: Collection[str] | None = None) -> IssueFolder:
    """Every draft of the folder with projects.yaml read once; unapproved ones on request.

    ``only`` (issue ids) replaces the front matter's status as the filter: the drafts not in it
    are left unread (the archive reads only the issues that were sent).
    """
    projects = read_projects(issues_dir)
    drafts = list_drafts(issues_dir)
    duplicates = duplicate_numbers(drafts)
    if duplicates:
        errors = list(duplicates.values())
        raise errors[0] if len(errors) == 1 else ContentErrors(errors)
    issues: list[IssueSource] = []
    unapproved: list[tuple[str, str]] = []
    for path in drafts:
        if only is not None and path.stem not in only:
            unapproved.append((path.name, peek_status(path)))
            continue
        if only is None and not include_unapproved:
            status = peek_status(path)
            if status != APPROVED:
                # A draft still being written must not block the approved issues, so it is
                # only peeked at, not validated.
                unapproved.append((path.name, status))
                continue
        draft = load_draft(path, projects)
        issues.append(IssueSource(draft, projects, previous_issue_date(drafts, path)))
    return IssueFolder(projects, tuple(issues), tuple(unapproved))


def read_each_draft(issues_dir: Path) -> list[tuple[Path, Draft | ContentError]]:
    """Every draft loaded on its own (projects.yaml must load): a broken one with its error."""
    projects = read_projects(issues_dir)
    drafts = list_drafts(issues_dir)
    duplicates = duplicate_numbers(drafts)
    results: list[tuple[Path, Draft | ContentError]] = []
    for path in drafts:
        try:
            draft = load_draft(path, projects)
        except ContentError as exc:
            results.append((path, exc))
            continue
        results.append((path, duplicates.get(path, draft)))
    return results


def peek_status(path: Path) -> str:
    """The front matter's ``status`` without full validation; unreadable → "approved"."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        front, _, _ = split_front_matter(text.replace("\r\n", "\n"), path.name)
        data = load_plain(front)  # a key given twice is an error here too, never last-wins
    except (OSError, UnicodeDecodeError, ContentError, yaml.YAMLError):
        return APPROVED  # so that load_draft reports the problem with file, line and field
    if not isinstance(data, dict):
        return APPROVED
    return str(data.get("status", "draft"))


@dataclass(frozen=True)
class NewIssuePlan:
    """The number and date of a new draft, and why (for ``digiweetjes new`` to say)."""

    number: int
    date: date
    number_reason: str
    date_reason: str


def plan_new_issue(issues_dir: Path, today: date, *, number: int | None = None,
                   day: date | None = None) -> NewIssuePlan:
    """Number and date a new issue after the last one; a taken number or an earlier date is
    refused (number 2 dated before number 1 would put the archive out of order)."""
    from digiweetjes.render.formatting import long_date

    latest = latest_issue(issues_dir)
    taken = taken_numbers(issues_dir)
    if number is not None and number in taken:
        raise ContentError(f"nummer {number} is al gebruikt in {taken[number]}: kies een ander "
                           f"nummer of laat --number weg (dan wordt het {latest.number + 1})")
    if number is None:
        number = latest.number + 1
        number_reason = (f"één meer dan het hoogste nummer ({latest.number}, in "
                         f"{latest.number_file})" if latest.number_file else "de eerste editie")
    else:
        number_reason = "zoals gevraagd met --number"
    last = latest.date
    if day is not None:
        if last is not None and day < last:
            raise ContentError(f"datum {day.isoformat()} ligt vóór het laatste Digi-weetje "
                               f"({latest.date_file}, {long_date(last)}): kies {last.isoformat()} "
                               "of later")
        return NewIssuePlan(number, day, number_reason, "zoals gevraagd met --date")
    if last is None or today > last:
        return NewIssuePlan(number, today, number_reason, "vandaag")
    after = date.fromordinal(last.toordinal() + 1)
    return NewIssuePlan(number, after, number_reason,
                        f"de dag na het laatste Digi-weetje ({latest.date_file}, "
                        f"{long_date(last)}); kies een andere datum met --date")
