"""Shared fixtures. System parts (Chromium, PostgreSQL) skip when absent, fail under CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digiweetjes.clock import FixedClock
from digiweetjes.config import PROJECT_ROOT, Secret, Settings
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS
from tests.figures import FIGURES

REQUIRE_SYSTEM_PARTS = os.environ.get("DIGIWEETJES_REQUIRE_SYSTEM_PARTS") == "1"


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


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


# ---------------------------------------------------------------- database (subscriber list)

POSTGRES_URL_VARIABLE = "DIGIWEETJES_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path):
    """An empty database URL: a fresh SQLite file, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'subscribers.db'}"
        return
    base_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base_url:
        skip_or_fail(f"PostgreSQL lane: {POSTGRES_URL_VARIABLE} is not set")
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        skip_or_fail(f"PostgreSQL lane: cannot reach the server at {POSTGRES_URL_VARIABLE} "
                     f"({exc.__class__.__name__})")
    # Every connection of the code under test lives in its own schema: tests stay isolated.
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(database_url: str):
    """A migrated ``digiweetjes.db.Database`` on SQLite and (when configured) on PostgreSQL."""
    from digiweetjes.db import Database

    database = Database(database_url)
    database.upgrade()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def db_settings(settings: Settings, db) -> Settings:
    """The ``settings`` fixture pointing at the ``db`` fixture's database."""
    return settings.with_(database_url=db.url)


# ---------------------------------------------------------------- browser (Chromium, axe-core)

@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright for Python is not installed")
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                          args=CHROMIUM_ARGS)
    except Exception as exc:  # Playwright raises its own Error for a browser that won't start
        manager.stop()
        skip_or_fail(f"Chromium could not be launched through Playwright: {exc}")
    yield browser
    browser.close()
    manager.stop()


@pytest.fixture(scope="session")
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(
        encoding="utf-8")
