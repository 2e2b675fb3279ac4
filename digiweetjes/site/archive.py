"""The static web archive: read the drafts → render the pages → write ``site/`` atomically.

An issue is published once it was sent: its campaign exists in the database (its audience was
frozen at its send time). Its page is the one stored with the campaign (``release.sent_copy``),
so the archive shows what went out even if the draft changed afterwards; a campaign from before
pages were stored gets its page rendered from the draft. ``--drafts`` adds the issues not sent
yet, marked as concept.

The three steps stay apart (as in Pelican): ``read_site`` loads and validates everything
(through the content read step, ``content.source.read_all_issues``) and compiles each issue,
``render_site`` turns it into a mapping of relative path → file content without touching the
disk, and ``write_site`` swaps the new tree in only once all of it exists. A bad draft therefore
raises before anything is written, and a failing write leaves the previous site in place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from digiweetjes.config import BRUSSELS, Settings
from digiweetjes.content.drafts import Draft
from digiweetjes.content.projects import ProjectData
from digiweetjes.content.source import IssueSource, read_all_issues
from digiweetjes.content.sourcedates import SourceDate
from digiweetjes.db import Database, open_database
from digiweetjes.errors import RenderError
from digiweetjes.links import (
    LOGO_IMAGE,
    PROJECTS_PAGE,
    issue_page,
    logo_url,
    privacy_url,
    subscribe_url,
    web_url,
)
from digiweetjes.render import CompiledIssue, compile_issue, issue_context
from digiweetjes.render.gate import refuse_failing
from digiweetjes.render.templating import render_template

STYLESHEET = "style.css"
#: The site's images, copied as they are from templates/web/assets/ to the site root.
ASSETS = (LOGO_IMAGE, "favicon.svg", "favicon.png", "apple-touch-icon.png")


@dataclass(frozen=True)
class SiteIssue:
    """One issue as the archive shows it."""

    source: IssueSource
    compiled: CompiledIssue
    concept: bool   # not sent: only built with --drafts, and marked so
    #: The page stored when it was sent (None: render it from the draft).
    stored_page: str | None = None

    @property
    def draft(self) -> Draft:
        return self.source.draft

    @property
    def issue_id(self) -> str:
        return self.draft.issue_id

    @property
    def path(self) -> str:
        return issue_page(self.issue_id)


@dataclass(frozen=True)
class SiteSource:
    """Everything the archive is rendered from (the result of the read step)."""

    projects: ProjectData
    issues: list[SiteIssue]            # newest first
    skipped: list[tuple[str, str]]     # (file name, why it was left out)


@dataclass
class BuildReport:
    """What a build wrote and what it left out."""

    site_dir: Path
    published: list[str] = field(default_factory=list)   # issue ids, newest first
    concepts: list[str] = field(default_factory=list)    # drafts built with --drafts
    skipped: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)       # relative paths written

    @property
    def index_path(self) -> Path:
        return self.site_dir / "index.html"


def build_site(settings: Settings, *, include_drafts: bool = False,
               db: Database | None = None) -> BuildReport:
    """Build the whole archive into ``settings.site_dir`` (all or nothing); which issues were
    sent is read from ``db`` (default: the database of ``settings.database_url``)."""
    if db is None:
        database = open_database(settings.database_url)
        try:
            sent = sent_pages(database)
        finally:
            database.dispose()
    else:
        sent = sent_pages(db)
    source = read_site(settings, sent, include_drafts=include_drafts)
    # The release gate on every page rendered from its draft (a sent issue's stored page
    # passed it when it was sent): one failing issue and nothing is written.
    refuse_failing((i.source, i.compiled) for i in source.issues if i.stored_page is None)
    files = render_site(source, settings)
    write_site(files, settings.site_dir)
    return BuildReport(
        site_dir=settings.site_dir,
        published=[i.issue_id for i in source.issues if not i.concept],
        concepts=[i.issue_id for i in source.issues if i.concept],
        skipped=source.skipped,
        files=sorted(files),
    )


# --- read ---------------------------------------------------------------------------------------

def sent_pages(db: Database) -> dict[str, str | None]:
    """Issue id → its stored page (None if none was stored), of every issue sent or being sent."""
    from sqlalchemy import select

    from digiweetjes.models import Campaign

    with db.session() as session:
        return {issue_id: page for issue_id, page in session.execute(
            select(Campaign.issue_id, Campaign.web_html))}


def read_site(settings: Settings, sent: Mapping[str, str | None], *,
              include_drafts: bool = False) -> SiteSource:
    """Read projects.yaml and every sent draft (all of them with ``include_drafts``), compiling
    each issue once."""
    folder = read_all_issues(settings.issues_dir, include_unapproved=include_drafts,
                             only=None if include_drafts else set(sent))
    issues = [SiteIssue(source, compile_issue(source, settings),
                        concept=source.issue_id not in sent,
                        stored_page=sent.get(source.issue_id))
              for source in folder.issues]
    issues.sort(key=lambda i: (i.draft.meta.date, i.draft.meta.number), reverse=True)
    skipped = [(name, "nog niet verstuurd") for name, _status in folder.unapproved]
    return SiteSource(projects=folder.projects, issues=issues, skipped=skipped)


# --- render -------------------------------------------------------------------------------------

def _common(settings: Settings, projects: ProjectData) -> dict[str, object]:
    """What every page of the site is rendered with."""
    return {
        "base_url": settings.base_url,
        "subscribe_url": subscribe_url(settings),
        "privacy_url": privacy_url(settings),
        "logo_url": logo_url(settings),
        "reply_to": settings.reply_to,
        "region": projects.region,
    }


def render_issue_page(source: IssueSource, settings: Settings, *, concept: bool = False) -> str:
    """The archive's page of one issue (also stored with its campaign when it is sent); the
    links to its neighbours go into its ``NAV_SLOT`` at build time."""
    context = {**issue_context(source, settings), **_common(settings, source.projects)}
    return render_template(settings.templates_dir, "web/issue.html.j2", **context, root="../",
                           page="issue", concept=concept, page_url=context["web_url"])


def render_site(source: SiteSource, settings: Settings) -> dict[str, str | bytes]:
    """Every file of the site as relative path → text; nothing is written here."""
    templates = settings.templates_dir
    common = _common(settings, source.projects)
    files: dict[str, str | bytes] = {}
    issues = source.issues  # newest first
    for index, issue in enumerate(issues):
        # A stored page keeps what was sent, but not its neighbours: those change as the
        # archive grows, so the navigation between issues is put in at every build.
        previous = issues[index + 1].draft if index + 1 < len(issues) else None
        following = issues[index - 1].draft if index > 0 else None
        navigation = render_template(templates, "web/_issue_nav.html.j2", root="../",
                                     previous=previous, following=following)
        page = (issue.stored_page if issue.stored_page is not None
                else render_issue_page(issue.source, settings, concept=issue.concept))
        files[issue.path] = with_navigation(page, navigation)
    files["index.html"] = render_template(
        templates, "web/index.html.j2", **common, root="", page="index", issues=source.issues,
        page_url=f"{settings.base_url}/")
    files[PROJECTS_PAGE] = render_template(
        templates, "web/projects.html.j2", **common, root="", page="projects",
        page_url=f"{settings.base_url}/{PROJECTS_PAGE}",
        tiers=source.projects.by_tier(), thresholds=source.projects.thresholds,
        threshold_names={t.id: t.name for t in source.projects.thresholds},
        source_url=source.projects.source_url or "https://e-inclusie.be/",
        updated=_projects_updated(source.projects))
    published = [i for i in source.issues if not i.concept]
    files["feed.xml"] = render_template(
        templates, "web/feed.xml.j2", **common,
        # Concepts never reach feed readers, even in a --drafts build.
        entries=[(i, web_url(settings, i.issue_id)) for i in published],
        updated=_feed_updated(published, source.projects))
    files[STYLESHEET] = _read_asset(templates, STYLESHEET).decode("utf-8")
    for name in ASSETS:
        files[name] = _read_asset(templates, f"assets/{name}")
    return files


#: Where an issue page takes its previous/next links (an empty marker in the template).
NAV_SLOT = "<!-- issue-nav -->"


def with_navigation(page: str, navigation: str) -> str:
    """Put the previous/next links into an issue page's slot (pages stored before the slot
    existed are left as they are)."""
    return page.replace(NAV_SLOT, navigation.strip(), 1)


def _read_asset(templates_dir: Path, name: str) -> bytes:
    try:
        return (templates_dir / "web" / name).read_bytes()
    except OSError as exc:
        raise RenderError(f"cannot read web/{name} in {templates_dir}: "
                          f"{exc.strerror}") from exc


def _projects_updated(projects: ProjectData) -> SourceDate | None:
    dates = [u.date for p in projects.projects for u in p.updates]
    return max(dates, default=None)


def _feed_updated(issues: list[SiteIssue], projects: ProjectData) -> str:
    """Atom's feed-level ``updated``: the newest entry, so a rebuild does not change the feed."""
    if issues:
        return max(i.compiled.send_at for i in issues).isoformat()
    latest = _projects_updated(projects)
    # A fact dated "2023" gives no day: its first day is the earliest it can claim.
    day = latest.first if latest is not None else date(2021, 7, 1)
    return datetime.combine(day, time(0, 0), tzinfo=BRUSSELS).isoformat()


# --- write --------------------------------------------------------------------------------------

def write_site(files: Mapping[str, str | bytes], site_dir: Path) -> None:
    """Write the files into a temporary folder beside ``site_dir``, then swap it in."""
    site_dir = site_dir.resolve()
    _refuse_foreign_target(site_dir)
    try:
        site_dir.parent.mkdir(parents=True, exist_ok=True)
        # Beside site/, on the same file system, so the final swap is a rename.
        staging = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-new-", dir=site_dir.parent))
    except OSError as exc:
        raise RenderError(f"cannot write the site to {site_dir}: {exc}") from exc
    try:
        for relative, content in files.items():
            target = staging / relative
            if staging not in target.resolve().parents:
                raise RenderError(f"refusing to write outside the site folder: {relative}")
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="\n")
        staging.chmod(0o755)
        _swap(staging, site_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise RenderError(f"cannot write the site to {site_dir}: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _refuse_foreign_target(site_dir: Path) -> None:
    """Refuse to swap out anything but an earlier site: the swap replaces the folder whole.

    A site folder set by mistake to the project, a home folder or ``/dev/full`` would
    otherwise be moved aside and deleted.
    """
    try:
        if not site_dir.exists():
            return
        if not site_dir.is_dir():
            raise RenderError(f"{site_dir} is geen map: kies met DIGIWEETJES_SITE_DIR een map "
                              "voor de website")
        if any(site_dir.iterdir()) and not (site_dir / "index.html").is_file():
            raise RenderError(f"{site_dir} is niet leeg en bevat geen eerder gebouwde website "
                              "(geen index.html): build vervangt die map helemaal; kies met "
                              "DIGIWEETJES_SITE_DIR een lege of eigen map")
    except OSError as exc:
        raise RenderError(f"cannot write the site to {site_dir}: {exc}") from exc


def _swap(staging: Path, site_dir: Path) -> None:
    """Replace ``site_dir`` by ``staging``: two renames, so readers never see half a site."""
    if not site_dir.exists():
        os.replace(staging, site_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}-old-", dir=site_dir.parent))
    old.rmdir()
    os.replace(site_dir, old)
    try:
        os.replace(staging, site_dir)
    except OSError:
        os.replace(old, site_dir)  # put the previous site back before reporting
        raise
    shutil.rmtree(old, ignore_errors=True)
