"""Helpers for tests of the release gate: an issues folder of one's own, approving in one call."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from digiweetjes.clock import FixedClock
from digiweetjes.config import PROJECT_ROOT, Settings
from digiweetjes.db import Database
from digiweetjes.release import approve

SAMPLE_ID = "2026-12-05-overzicht-projectoproepen"
#: Before the sample's send time (2026-12-05 09:00 Brussels).
EARLY = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def own_issues(settings: Settings, tmp_path: Path, *, templates: bool = False) -> Settings:
    """Settings with a copy of the repository's issues folder (and templates, if asked)."""
    issues = tmp_path / "issues"
    shutil.copytree(PROJECT_ROOT / "issues", issues, dirs_exist_ok=True)
    changes: dict[str, object] = {"issues_dir": issues}
    if templates:
        shutil.copytree(PROJECT_ROOT / "templates", tmp_path / "templates", dirs_exist_ok=True)
        changes["templates_dir"] = tmp_path / "templates"
    return settings.with_(**changes)


def approved(db: Database, settings: Settings, issue_id: str = SAMPLE_ID, *,
             by: str = "Test Nalezer", clock: FixedClock | None = None) -> None:
    """Approve an issue in ``db`` (as the editors would with `digiweetjes approve`)."""
    approve(db, settings, clock or FixedClock(EARLY), issue_id, by=by)

