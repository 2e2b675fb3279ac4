"""What the CLI tests of the subscriber list share: an environment of their own, and a run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digiweetjes.cli import cli
from digiweetjes.cli.common import run_cli
from digiweetjes.config import PROJECT_ROOT

SECRET = "cli-test-secret-value-1234567890"


def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> dict[str, str]:
    """Point every ``DIGIWEETJES_*`` setting a command reads at ``tmp_path`` and the database."""
    values = {
        "DIGIWEETJES_ROOT": str(tmp_path),
        "DIGIWEETJES_ISSUES_DIR": str(PROJECT_ROOT / "issues"),
        "DIGIWEETJES_TEMPLATES_DIR": str(PROJECT_ROOT / "templates"),
        "DIGIWEETJES_OUTBOX_DIR": str(tmp_path / "outbox"),
        "DIGIWEETJES_DATABASE_URL": database_url,
        "DIGIWEETJES_SECRET_KEY": SECRET,
        "DIGIWEETJES_BASE_URL": "https://digiweetjes.example.be",
        "DIGIWEETJES_PROVIDER": "outbox",
        "COLUMNS": "200",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """A command through the CLI's error boundary: (exit code, stdout, stderr)."""
    code = run_cli(cli, list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sending_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, secret: str,
                subscribers: int, issues_dir: Path | None = None,
                outbox_dir: Path | None = None) -> dict[str, str]:
    """A clean ``DIGIWEETJES_*`` environment over a fresh SQLite list of ``subscribers`` active
    synthetic people (the project's own issues, or ``issues_dir``, and templates): what send and
    release tests share.
    """
    from digiweetjes.clock import SystemClock
    from digiweetjes.config import Secret, Settings
    from digiweetjes.db import Database
    from digiweetjes.devtools.synthetic import insert_subscribers

    for name in [k for k in os.environ if k.startswith("DIGIWEETJES_")]:
        monkeypatch.delenv(name)
    values = {
        "DIGIWEETJES_ROOT": str(tmp_path),
        "DIGIWEETJES_DATABASE_URL": f"sqlite:///{tmp_path / 'subscribers.db'}",
        "DIGIWEETJES_ISSUES_DIR": str(issues_dir or PROJECT_ROOT / "issues"),
        "DIGIWEETJES_TEMPLATES_DIR": str(PROJECT_ROOT / "templates"),
        "DIGIWEETJES_SECRET_KEY": secret,
    }
    if outbox_dir is not None:
        values["DIGIWEETJES_OUTBOX_DIR"] = str(outbox_dir)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    db = Database(values["DIGIWEETJES_DATABASE_URL"])
    db.upgrade()
    insert_subscribers(db, Settings(secret_key=Secret(secret)), subscribers, SystemClock().now())
    db.dispose()
    return values
