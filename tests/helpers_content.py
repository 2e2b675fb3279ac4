"""Helpers for tests that need their own issues folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from digiweetjes.config import PROJECT_ROOT, Settings

SAMPLE = PROJECT_ROOT / "issues" / "2026-12-05-overzicht-projectoproepen.md"

FRONT = """---
title: "{title}"
number: {number}
date: {date}
preheader: Korte samenvatting.
featured: [{featured}]
status: approved
---
"""


def issues_copy(tmp_path: Path, settings: Settings) -> Settings:
    """Settings whose issues folder is a fresh copy of projects.yaml (no drafts)."""
    issues = tmp_path / "issues"
    issues.mkdir(exist_ok=True)
    copy = settings.with_(issues_dir=issues)
    shutil.copy(Settings().projects_path, copy.projects_path)
    return copy


def write_draft(issues: Path, body: str, *, date: str = "2027-01-10", slug: str = "test",
                title: str = "Test", number: int = 2, featured: str = "digibanken",
                front: str | None = None) -> Path:
    path = issues / f"{date}-{slug}.md"
    head = front if front is not None else FRONT.format(title=title, number=number, date=date,
                                                        featured=featured)
    path.write_text(head + body, encoding="utf-8")
    return path
