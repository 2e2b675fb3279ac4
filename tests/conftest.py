"""Shared fixtures. System parts (Chromium, PostgreSQL) skip when absent, fail under CI."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digiweetjes.clock import FixedClock
from digiweetjes.config import PROJECT_ROOT, Secret, Settings

REQUIRE_SYSTEM_PARTS = os.environ.get("DIGIWEETJES_REQUIRE_SYSTEM_PARTS") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip a test whose system part is missing; under CI (the variable set) fail it instead."""
    if REQUIRE_SYSTEM_PARTS:
        pytest.fail(f"{reason} (DIGIWEETJES_REQUIRE_SYSTEM_PARTS=1 turns this skip into a failure)")
    pytest.skip(reason)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on the repository's issues and templates, writing only below tmp_path."""
    return Settings(
        root=tmp_path,
        issues_dir=PROJECT_ROOT / "issues",
        templates_dir=PROJECT_ROOT / "templates",
        site_dir=tmp_path / "site",
        outbox_dir=tmp_path / "outbox",
        database_url=f"sqlite:///{tmp_path / 'subscribers.db'}",
        base_url="https://digiweetjes.example.be",
        secret_key=Secret("test-secret-key-not-for-production"),
    )
