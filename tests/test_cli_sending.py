"""The send and status commands: confirmation, test send, dry run, resume, errors, secrets."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from digiweetjes.cli import cli, main
from digiweetjes.config import PROJECT_ROOT
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.models import Campaign
from tests.cli_support import sending_env

ISSUE = "2026-12-05-overzicht-projectoproepen"
SECRET_KEY = "cli-test-secret-key-abcdefghijkl"
API_KEY = "xkeysib-CLI-TEST-4b9d2e7a1c-must-not-leak"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = sending_env(monkeypatch, tmp_path, secret=SECRET_KEY, subscribers=12)
    assert main(["approve", ISSUE, "--by", "Test Nalezer"]) == 0
    return values


def _campaigns(env: dict[str, str]) -> int:
    db = Database(env["DIGIWEETJES_DATABASE_URL"])
    try:
        with db.session() as session:
            return session.scalar(select(func.count()).select_from(Campaign)) or 0
    finally:
        db.dispose()


def _outbox(env: dict[str, str]) -> list[str]:
    folder = Path(env["DIGIWEETJES_ROOT"]) / "outbox" / ISSUE
    return sorted(p.name for p in folder.glob("*.eml")) if folder.exists() else []


def test_dry_run_shows_audience_and_batches_and_writes_nothing(env) -> None:
    result = CliRunner().invoke(cli, ["send", ISSUE, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "nog niet verstuurd: er zijn nu 12 ontvangers." in result.output
    assert "12 ontvangers in 1 pakket(ten) van hoogstens" in result.output
    assert _campaigns(env) == 0 and _outbox(env) == []


def test_test_send_reaches_one_address_and_never_the_ledger(env) -> None:
    result = CliRunner().invoke(cli, ["send", "1", "--to", "redactie@example.be"])
    assert result.exit_code == 0, result.output
    assert "de verzendlijst blijft onaangeroerd" in result.output
    [name] = _outbox(env)
    assert name.startswith("test-")
    mail = (Path(env["DIGIWEETJES_ROOT"]) / "outbox" / ISSUE / name).read_text()
    assert "Subject: [TEST] Digi-weetje 1" in mail and "To: redactie@example.be" in mail
    assert _campaigns(env) == 0


def test_confirmation_names_the_audience_and_no_sends_nothing(env) -> None:
    result = CliRunner().invoke(cli, ["send", ISSUE], input="n\n")
    assert "naar 12 abonnees versturen via outbox? [j/N]" in result.output
    assert "Niets verstuurd." in result.output
    assert _campaigns(env) == 0 and _outbox(env) == []


def test_send_then_status_then_send_again_sends_once(env) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["send", ISSUE], input="j\n")
    assert result.exit_code == 0, result.output
    assert "Ontvangers vastgelegd: 12." in result.output
    assert "12 verstuurd, 0 mislukt, 0 onzeker" in result.output
    assert len(_outbox(env)) == 12
    status = runner.invoke(cli, ["status", ISSUE])
    assert status.exit_code == 0
    assert "afgerond via outbox" in status.output
    assert re.search(r"^  verstuurd +12$", status.output, re.MULTILINE), status.output
    again = runner.invoke(cli, ["send", ISSUE, "--yes"])
    assert again.exit_code == 0 and "is al volledig verstuurd: niets meer te doen." in again.output
    assert len(_outbox(env)) == 12


def test_status_of_an_unsent_issue_and_an_unknown_one(env, capsys) -> None:
    assert main(["status", ISSUE]) == 0
    assert "is nog niet naar de lijst verstuurd" in capsys.readouterr().out
    assert main(["status", "no-such-issue"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("Fout: ") and "Traceback" not in err


def test_an_edit_after_approval_is_refused_and_jobs_says_why(env, tmp_path, monkeypatch,
                                                              capsys) -> None:
    issues = tmp_path / "issues"
    issues.mkdir()
    (issues / "projects.yaml").write_text((PROJECT_ROOT / "issues" / "projects.yaml")
                                          .read_text(encoding="utf-8"), encoding="utf-8")
    source = (PROJECT_ROOT / "issues" / f"{ISSUE}.md").read_text(encoding="utf-8")
    (issues / f"{ISSUE}.md").write_text(source, encoding="utf-8")
    monkeypatch.setenv("DIGIWEETJES_ISSUES_DIR", str(issues))
    capsys.readouterr()
    assert main(["jobs"]) == 0
    assert "klaar om te versturen" in capsys.readouterr().out
    (issues / f"{ISSUE}.md").write_text(source.replace("Waarom dit", "Waarom nu dit"),
                                        encoding="utf-8")
    assert main(["send", ISSUE, "--yes"]) == 1
    err = capsys.readouterr().err
    assert "wordt niet verstuurd: gewijzigd na goedkeuring door Test Nalezer op " in err
    assert "Traceback" not in err
    assert _campaigns(env) == 0
    assert main(["jobs"]) == 0
    out = capsys.readouterr().out
    assert f"{ISSUE}" in out and "12 ontvangers" in out
    assert "wordt NIET verstuurd: gewijzigd na goedkeuring door Test Nalezer" in out
    # Approved again, it goes.
    assert main(["approve", ISSUE, "--by", "Tweede Nalezer"]) == 0
    assert main(["send", ISSUE, "--yes"]) == 0
    assert _campaigns(env) == 1


def test_a_cancelled_issue_is_refused(env, capsys) -> None:
    assert main(["unschedule", ISSUE, "--cancel"]) == 0
    assert main(["send", ISSUE, "--yes"]) == 1
    assert "wordt niet verstuurd: geannuleerd" in capsys.readouterr().err
    assert _campaigns(env) == 0


def test_a_refused_key_pauses_and_never_shows_the_key(env, monkeypatch, capsys,
                                                      caplog) -> None:
    with FakeProviderServer(faults=Faults(accepted_keys=["the-right-key"])) as fake:
        monkeypatch.setenv("DIGIWEETJES_PROVIDER", "brevo")
        monkeypatch.setenv("DIGIWEETJES_PROVIDER_API_KEY", API_KEY)
        monkeypatch.setenv("DIGIWEETJES_PROVIDER_BASE_URL", fake.url)
        with caplog.at_level(logging.DEBUG):
            code = main(["send", ISSUE, "--yes"])
            out = capsys.readouterr()
            status_code = main(["status", ISSUE])
            status = capsys.readouterr()
    assert code != 0 and status_code == 0
    assert out.err.startswith(f"Fout: verzending van {ISSUE} gepauzeerd: de provider weigert "
                              "het account: brevo: HTTP 401")
    assert "Gepauzeerd: de provider weigert het account" in status.out
    assert re.search(r"^  in de wachtrij +12$", status.out, re.MULTILINE), status.out
    assert main(["jobs"]) == 0
    jobs = capsys.readouterr().out
    assert f"{ISSUE}  (gepauzeerd)" in jobs and "wordt NIET verstuurd: " in jobs
    for text in (out.out, out.err, status.out, status.err, caplog.text):
        assert API_KEY not in text
    # Once the key is right, send resumes the paused campaign and finishes it.
    with FakeProviderServer(faults=Faults(accepted_keys=[API_KEY])) as fake:
        monkeypatch.setenv("DIGIWEETJES_PROVIDER_BASE_URL", fake.url)
        assert main(["send", ISSUE, "--yes"]) == 0
        assert fake.state.deliveries()["total"] == 12
    assert "Deze beurt: 12 verstuurd" in capsys.readouterr().out


def _release_state(env: dict[str, str]) -> str | None:
    from digiweetjes.models.release import IssueRelease

    db = Database(env["DIGIWEETJES_DATABASE_URL"])
    try:
        with db.session() as session:
            return session.scalar(select(IssueRelease.state).where(IssueRelease.issue_id == ISSUE))
    finally:
        db.dispose()


def test_an_empty_audience_is_refused_before_anything_is_recorded(env, tmp_path, monkeypatch,
                                                                   capsys) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("DIGIWEETJES_DATABASE_URL", url)
    Database(url).upgrade()
    assert main(["approve", ISSUE, "--by", "Test Nalezer"]) == 0
    empty = {**env, "DIGIWEETJES_DATABASE_URL": url}
    before = _release_state(empty)
    capsys.readouterr()
    assert main(["send", ISSUE, "--yes"]) != 0
    err = capsys.readouterr().err
    assert "0 actieve abonnees" in err and "Traceback" not in err
    assert _campaigns(empty) == 0 and _release_state(empty) == before == "scheduled"


def test_a_missing_secret_key_stops_an_http_send_before_the_audience_is_frozen(
        env, monkeypatch, capsys) -> None:
    with FakeProviderServer() as fake:
        monkeypatch.setenv("DIGIWEETJES_PROVIDER", "brevo")
        monkeypatch.setenv("DIGIWEETJES_PROVIDER_API_KEY", API_KEY)
        monkeypatch.setenv("DIGIWEETJES_PROVIDER_BASE_URL", fake.url)
        monkeypatch.delenv("DIGIWEETJES_SECRET_KEY")
        before = _release_state(env)
        capsys.readouterr()
        assert main(["send", ISSUE, "--yes"]) != 0
        err = capsys.readouterr().err
        assert "DIGIWEETJES_SECRET_KEY" in err and "Traceback" not in err
    assert _campaigns(env) == 0 and _release_state(env) == before == "scheduled"
