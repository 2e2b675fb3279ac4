"""What the editors' pages read: the issue list, the weekly sign-ups and unsubscribes, the
hard-bounce and complaint rates of the last sends, paged problem deliveries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from digiweetjes.config import BRUSSELS
from digiweetjes.feedback.rates import recent_sends, totals
from digiweetjes.models import IssueState
from digiweetjes.release.overview import is_issue_id, known_issue, list_issues
from digiweetjes.sending import campaigns
from digiweetjes.subscribers.trends import weekly_changes
from tests.admin_issues_support import ledger_line, reported, sent_campaign
from tests.release_support import SAMPLE_ID, approved, own_issues, record_sent

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday


def test_weekly_changes_count_joins_and_leaves_per_brussels_week(db) -> None:
    monday = datetime(2026, 11, 30, 0, 30, tzinfo=BRUSSELS)  # this week's first half hour
    ledger_line(db, "confirmed", monday)
    ledger_line(db, "imported", monday + timedelta(hours=1))
    ledger_line(db, "subscribed", monday, source="admin", detail="consent source: beurs")
    ledger_line(db, "subscribed", monday, source="admin", detail="toestemming: infosessie")
    ledger_line(db, "subscribed", monday, source="admin", detail="confirmation requested")
    ledger_line(db, "subscribed", monday, source="admin", detail="bevestiging gevraagd")
    ledger_line(db, "subscribed", monday)  # a form sign-up not confirmed yet: not joined
    ledger_line(db, "unsubscribed", monday - timedelta(hours=1))  # Sunday: the week before
    ledger_line(db, "bounced", monday)
    ledger_line(db, "confirmed", monday - timedelta(weeks=26))  # before the chart
    with db.session() as session:
        weeks = weekly_changes(session, NOW, BRUSSELS)
    assert len(weeks) == 26
    assert weeks[-1].monday == date(2026, 11, 30)
    assert weeks[0].monday == date(2026, 11, 30) - timedelta(weeks=25)
    assert (weeks[-1].signups, weeks[-1].unsubscribes) == (4, 0)
    assert (weeks[-2].signups, weeks[-2].unsubscribes) == (0, 1)
    assert sum(w.signups for w in weeks) == 4


def test_rates_count_each_reported_delivery_once_per_campaign(db, settings) -> None:
    settings = settings.with_(database_url=db.url)
    campaign_id, ids = sent_campaign(db, settings, NOW, recipients=40, failed=2, uncertain=1)
    reported(db, "hard_bounce", ids[3:4], NOW)
    reported(db, "hard_bounce", ids[3:4], NOW, key="again")  # the same delivery twice
    reported(db, "complaint", ids[10:11], NOW)
    reported(db, "soft_bounce", ids[12:14], NOW)
    with db.session() as session:
        sends = recent_sends(session)
    assert len(sends) == 1
    send = sends[0]
    assert send.issue_id == SAMPLE_ID
    assert send.counts["sent"] == 37 and send.counts["failed"] == 2
    assert (send.hard_bounces, send.complaints) == (1, 1)
    assert send.hard_bounce_rate == 1 / 37
    assert send.complaint_warning and send.hard_bounce_warning  # 2.7 % ≥ 0.1 % and ≥ 2 %
    total = totals(sends)
    assert (total.sent, total.hard_bounces, total.complaints) == (37, 1, 1)
    # Paging through the problem deliveries (oldest first).
    first = campaigns.problems(db, campaign_id, limit=2)
    rest = campaigns.problems(db, campaign_id, limit=2, offset=2)
    assert [row[0] for row in first + rest] == ["failed", "failed", "uncertain"]


def test_rates_under_the_thresholds_warn_not(db, settings) -> None:
    settings = settings.with_(database_url=db.url)
    _campaign, ids = sent_campaign(db, settings, NOW, recipients=60)
    reported(db, "hard_bounce", ids[:1], NOW)  # 1 of 60: 1.7 %
    with db.session() as session:
        send = recent_sends(session)[0]
    assert not send.hard_bounce_warning and not send.complaint_warning
    assert send.complaint_rate == 0


def test_the_issue_list_has_drafts_and_sent_issues_whose_draft_is_gone(db, settings,
                                                                      tmp_path) -> None:
    settings = own_issues(settings.with_(database_url=db.url), tmp_path)
    record_sent(db, "2026-06-01-zomereditie")
    lines = list_issues(db, settings)
    assert [line.issue_id for line in lines] == [SAMPLE_ID, "2026-06-01-zomereditie"]
    sample, gone = lines
    assert sample.state is IssueState.DRAFT and sample.number == 1 and sample.has_draft
    assert sample.deliveries is None
    assert gone.state is IssueState.SENT and not gone.has_draft and gone.deliveries == {}
    approved(db, settings)
    assert list_issues(db, settings)[0].state is IssueState.SCHEDULED  # its send_at
    assert known_issue(db, settings, SAMPLE_ID)
    assert known_issue(db, settings, "2026-06-01-zomereditie")
    assert not known_issue(db, settings, "2026-06-02-bestaat-niet")
    assert not is_issue_id("../issues/2026-12-05-overzicht-projectoproepen")
    assert not is_issue_id("1")


def test_a_broken_draft_is_listed_with_why(db, settings, tmp_path) -> None:
    settings = own_issues(settings.with_(database_url=db.url), tmp_path)
    (settings.issues_dir / "2027-01-10-kapot.md").write_text("---\ntitle: x\n---\n",
                                                             encoding="utf-8")
    broken = list_issues(db, settings)[0]
    assert broken.issue_id == "2027-01-10-kapot" and broken.problem
    assert broken.date == date(2027, 1, 10) and broken.number is None
