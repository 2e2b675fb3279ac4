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



def record_sent(db: Database, issue_id: str, *, web_html: str | None = None,
                at: datetime = EARLY) -> None:
    """A campaign row for ``issue_id``, as a send leaves it (no deliveries): "it was sent"."""
    from sqlalchemy import insert

    from digiweetjes.models import Campaign

    with db.session() as session:
        session.execute(insert(Campaign).values(
            issue_id=issue_id, subject=issue_id, tag="digiweetje-x", provider="outbox",
            state="done", audience_size=0, audience_frozen_at=at, created_at=at,
            updated_at=at, finished_at=at, web_html=web_html))


def sent_in(settings: Settings, *issue_ids: str) -> None:
    """Migrate ``settings``' database and record ``issue_ids`` as sent in it."""
    database = Database(settings.database_url)
    try:
        database.upgrade()
        for issue_id in issue_ids:
            record_sent(database, issue_id)
    finally:
        database.dispose()


def approve_with_cli(env: dict[str, str], cwd: Path, issue_id: str = SAMPLE_ID) -> None:
    """`digiweetjes approve` in a subprocess with ``env``: the settings the sends will use."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "digiweetjes", "approve", issue_id, "--by",
                             "Test Nalezer"], env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
