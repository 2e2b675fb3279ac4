"""approve, schedule, unschedule, jobs (CLI); the send door's lifecycle and stored copy."""

from __future__ import annotations

import email
import email.message
import re
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from digiweetjes.cli import main
from digiweetjes.clock import SystemClock
from digiweetjes.config import Secret, Settings
from digiweetjes.db import Database
from digiweetjes.models import Campaign, IssueRelease, IssueState
from digiweetjes.site.archive import NAV_SLOT
from tests.cli_support import sending_env
from tests.release_support import SAMPLE_ID
from tests.sending_support import add_subscriber

SECRET_KEY = "release-cli-secret-key-abcdefghij"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = sending_env(monkeypatch, tmp_path, secret=SECRET_KEY, subscribers=5)
    return values


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _rows(env: dict[str, str]) -> list[tuple]:
    db = Database(env["DIGIWEETJES_DATABASE_URL"])
    try:
        with db.session() as session:
            return [(r.issue_id, r.state, r.send_at, r.content_hash, r.approved_by)
                    for r in session.scalars(select(IssueRelease))]
    finally:
        db.dispose()


def test_approve_schedule_jobs_unschedule(env, capsys) -> None:
    code, out, _ = _run(capsys, "approve", "1", "--by", "An Peeters")
    assert code == 0
    assert f"{SAMPLE_ID}: goedgekeurd door An Peeters op " in out
    code, out, _ = _run(capsys, "schedule", SAMPLE_ID, "--at", "2099-12-08 09:00")
    assert code == 0
    assert out.strip() == f"{SAMPLE_ID}: ingepland op dinsdag 8 december 2099 om 09:00."
    code, out, _ = _run(capsys, "jobs")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"dinsdag 8 december 2099 om 09:00  {SAMPLE_ID}  (ingepland)"
    assert "5 ontvangers" in lines[1] and "goedgekeurd door An Peeters" in lines[1]
    assert lines[2].strip() == "klaar om te versturen"
    [(_, state, send_at, _, _)] = _rows(env)
    assert state == "scheduled" and send_at.isoformat() == "2099-12-08T08:00:00+00:00"
    code, out, _ = _run(capsys, "unschedule", "1")
    assert code == 0 and "niet meer ingepland" in out
    assert _rows(env)[0][1:3] == ("approved", None)
    code, out, _ = _run(capsys, "unschedule", "1", "--cancel")
    assert code == 0 and "geannuleerd" in out
    assert _rows(env)[0][1] == "cancelled"


@pytest.mark.parametrize(("at", "message"), [
    ("2027-03-28 02:30", "bestaat niet in Brussel"),
    ("2027-10-31 02:30", "bestaat twee keer in Brussel"),
    ("2020-01-07 09:00", "is voorbij"),
    ("morgen om negen", "is geen tijdstip"),
])
def test_schedule_refuses_bad_moments_and_changes_nothing(env, capsys, at, message) -> None:
    assert _run(capsys, "approve", SAMPLE_ID, "--by", "An")[0] == 0
    before = _rows(env)
    code, out, err = _run(capsys, "schedule", SAMPLE_ID, "--at", at)
    assert code != 0 and out == ""
    assert err.startswith("Fout: --at: ") and message in err
    assert _rows(env) == before


def test_an_explicit_offset_settles_the_repeated_hour(env, capsys) -> None:
    assert _run(capsys, "approve", SAMPLE_ID, "--by", "An")[0] == 0
    code, out, _ = _run(capsys, "schedule", SAMPLE_ID, "--at", "2099-10-25 02:30+01:00")
    assert code == 0 and "zondag 25 oktober 2099 om 02:30" in out
    assert _rows(env)[0][2].isoformat() == "2099-10-25T01:30:00+00:00"


@pytest.mark.parametrize("argv", [
    ["approve", "no-such-issue", "--by", "An"],
    ["approve", SAMPLE_ID, "--by", "   "],
    ["schedule", "no-such-issue", "--at", "2099-12-08 09:00"],
    ["schedule", SAMPLE_ID, "--at", "2099-12-08 09:00"],     # not approved
    ["unschedule", SAMPLE_ID],                               # not approved
])
def test_bad_requests_are_one_dutch_line_and_change_nothing(env, capsys, argv) -> None:
    code, out, err = _run(capsys, *argv)
    assert code != 0 and out == ""
    assert err.startswith("Fout: ")
    assert _rows(env) == []


def test_jobs_without_anything(env, capsys) -> None:
    assert _run(capsys, "jobs") == (0, "Geen geplande of goedgekeurde edities.\n", "")


def test_a_send_stores_what_it_sent_and_ends_sent(env, capsys, tmp_path) -> None:
    db = Database(env["DIGIWEETJES_DATABASE_URL"])
    add_subscriber(db, Settings(secret_key=Secret(SECRET_KEY)), "zonder.naam@example.org",
                   now=SystemClock().now())
    db.dispose()
    assert _run(capsys, "approve", SAMPLE_ID, "--by", "An")[0] == 0
    assert _run(capsys, "send", SAMPLE_ID, "--yes")[0] == 0
    assert _rows(env)[0][1] == IssueState.SENT.value
    db = Database(env["DIGIWEETJES_DATABASE_URL"])
    try:
        with db.session() as session:
            campaign = session.scalars(select(Campaign)).one()
            html, text, page = campaign.html, campaign.text, campaign.web_html
    finally:
        db.dispose()
    assert html and text and page
    # A recipient without name or Digibank got the stored copy but for the tokens in their
    # own unsubscribe and preferences links.
    [message] = [m for m in map(_read_eml, (tmp_path / "outbox" / SAMPLE_ID).glob("*.eml"))
                 if "zonder.naam@example.org" in m["To"]]
    # (The outbox writes lines as mail does: CRLF, ending in a line break.)
    sent_html, sent_text = (message.get_body((kind,)).get_content().replace("\r\n", "\n")
                            for kind in ("html", "plain"))
    assert "Beste lezer," in html and "/uitschrijven/" in sent_html
    assert TOKEN.sub(r"\1", sent_html).rstrip("\n") == html.replace("\r\n", "\n").rstrip("\n")
    assert TOKEN.sub(r"\1", sent_text).rstrip("\n") == text.replace("\r\n", "\n").rstrip("\n")
    assert "<html" in page and 'class="issue"' in page and "/uitschrijven" not in page
    # The archive publishes that page.
    assert _run(capsys, "build")[0] == 0
    built = (tmp_path / "site" / "archief" / f"{SAMPLE_ID}.html").read_text(encoding="utf-8")
    # The same page, with its links to the issues before and after (none yet) put in.
    assert built == page.replace(NAV_SLOT, "")
    # A second send changes nothing, and approving what was sent is refused.
    assert _run(capsys, "send", SAMPLE_ID, "--yes")[0] == 0
    code, _, err = _run(capsys, "approve", SAMPLE_ID, "--by", "An")
    assert code != 0 and "al (deels) verstuurd" in err


#: A personal link's token (the general pages have none).
TOKEN = re.compile(r"(/uitschrijven|/voorkeuren)/[A-Za-z0-9._~-]+")


def _read_eml(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)
