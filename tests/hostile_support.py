"""What the hostile-input tests share: a CLI run in a temporary project, and folder snapshots."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from digiweetjes.cli import cli
from digiweetjes.cli.common import run_cli
from digiweetjes.config import PROJECT_ROOT

SECRET = "hostile-test-secret-value-1234567890"


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def assert_clean_error(self, code: int, message: str) -> None:
        """Exit ``code``, exactly the one line ``Fout: message``, nothing on stdout."""
        assert (self.code, self.err) == (code, f"Fout: {message}\n"), self.err
        assert self.out == ""
        assert "Traceback" not in self.out + self.err


def base_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of a project in ``root`` (issues and templates from the repository)."""
    return {
        "DIGIWEETJES_ROOT": str(root),
        "DIGIWEETJES_ISSUES_DIR": str(PROJECT_ROOT / "issues"),
        "DIGIWEETJES_TEMPLATES_DIR": str(PROJECT_ROOT / "templates"),
        "DIGIWEETJES_OUTBOX_DIR": str(root / "outbox"),
        "DIGIWEETJES_SITE_DIR": str(root / "site"),
        "DIGIWEETJES_DATABASE_URL": f"sqlite:///{root / 'subscribers.db'}",
        "DIGIWEETJES_SECRET_KEY": SECRET,
        "DIGIWEETJES_BASE_URL": "https://digiweetjes.example.be",
        "DIGIWEETJES_PROVIDER": "outbox",
        "COLUMNS": "200",
        **extra,
    }


def use_env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Outcome:
    code = run_cli(cli, list(argv))
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (relative path → kind and content hash)."""
    state: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = str(path.relative_to(folder))
        if path.is_symlink():
            state[relative] = f"link:{path.readlink()}"
        elif path.is_dir():
            state[relative] = "dir"
        else:
            state[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state
