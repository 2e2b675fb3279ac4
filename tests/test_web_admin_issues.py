"""The editors' pages through the ASGI app (httpx): ``/beheer`` (overview) and
``/beheer/nummers...`` (list, issue page, preview, approve, schedule, unschedule, test mail).

Every route: anonymous (to the login page, or 401 for a form), an editor allowed, a missing or
wrong CSRF token refused (403) with nothing changed, an expired session sent back to login.
The forms change the database as the CLI would, each with its audit line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digiweetjes.models import AuditEvent, Campaign, Delivery, IssueState, Role
from digiweetjes.release import approve, content_hash, get_release
from digiweetjes.release.approval import compile_current
from digiweetjes.users import recent_audit
from tests.admin_issues_support import ledger_line, reported, sent_campaign
from tests.admin_support import admin_client, anonymous_client, form
from tests.release_support import SAMPLE_ID, own_issues

ISSUE = f"/beheer/nummers/{SAMPLE_ID}"
PAGES = ["/beheer", "/beheer/nummers", ISSUE, f"{ISSUE}/voorbeeld.html"]
FORMS = {
    f"{ISSUE}/goedkeuren": {},
    f"{ISSUE}/inplannen": {"tijdstip": "2026-12-10T10:00"},
    f"{ISSUE}/uitplannen": {},
    f"{ISSUE}/testmail": {"adres": "redacteur@example.be"},
}


@pytest.fixture
def site(db_settings, tmp_path: Path):
    """Settings on the test database with an issues folder of the test's own."""
    return own_issues(db_settings, tmp_path)


@pytest.fixture
def editor(site, db, clock):
    return admin_client(site, db, clock, Role.EDITOR, name="eva.redacteur")


def issue_audit(db) -> list[AuditEvent]:
    with db.session() as session:
        return [e for e in recent_audit(session, 50) if e.action.startswith("issue.")]


def post(client, path: str, **data: str):
    return client.post(path, data={"csrftoken": client.csrftoken, **data})


def outbox_files(site) -> list[Path]:
    return sorted(site.outbox_dir.rglob("*.eml")) if site.outbox_dir.exists() else []


# -- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_go_to_the_login(site, db, clock, path) -> None:
    answer = anonymous_client(site, db, clock).get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/beheer/aanmelden")
    if path != "/beheer":
        assert "volgende=" in answer.headers["location"]


@pytest.mark.parametrize("path", FORMS)
def test_anonymous_forms_are_refused_and_change_nothing(site, db, clock, path) -> None:
    client = anonymous_client(site, db, clock)
    token = form(client, "/beheer/aanmelden")  # a valid CSRF token: the 401 is about the login
    answer = client.post(path, data={"csrftoken": token, **FORMS[path]})
    assert answer.status_code == 401
    assert "Je bent niet aangemeld" in answer.text
    assert get_release(db, SAMPLE_ID) is None and outbox_files(site) == []


@pytest.mark.parametrize("path", PAGES)
def test_an_editor_may_open_every_page(editor, path) -> None:
    answer = editor.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ADMIN])
def test_editors_and_admins_may_use_every_form(site, db, clock, role) -> None:
    client = admin_client(site, db, clock, role)
    for path, data in FORMS.items():
        answer = post(client, path, **data)
        assert answer.status_code == 303, (path, answer.text)
    assert [e.action for e in reversed(issue_audit(db))] == [
        "issue.approve", "issue.schedule", "issue.unschedule", "issue.test-send"]
    assert {e.actor for e in issue_audit(db)} == {client.user.name}


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize("token", [None, "vervalst-token"])
def test_a_form_without_the_right_csrf_token_is_refused(editor, db, site, path, token) -> None:
    data = dict(FORMS[path])
    if token is not None:
        data["csrftoken"] = token
    answer = editor.post(path, data=data)
    assert answer.status_code == 403
    assert "Dit mag niet" in answer.text
    assert get_release(db, SAMPLE_ID) is None
    assert issue_audit(db) == [] and outbox_files(site) == []


@pytest.mark.parametrize("path", [*PAGES, *FORMS])
def test_an_expired_session_goes_back_to_the_login(site, db, clock, editor, path) -> None:
    clock.advance(minutes=site.web.admin_idle_minutes + 1)
    if path in FORMS:
        answer = post(editor, path, **FORMS[path])
        assert answer.status_code == 401
        assert "Je sessie is verlopen" in answer.text
    else:
        answer = editor.get(path)
        assert answer.status_code == 303
        assert "sessie=verlopen" in answer.headers["location"]
    assert get_release(db, SAMPLE_ID) is None


def test_unknown_issues_and_paths_are_404(editor) -> None:
    for path in ["/beheer/nummers/2026-01-01-bestaat-niet", "/beheer/nummers/1",
                 "/beheer/nummers/projects", "/beheer/nummers/projects.yaml",
                 "/beheer/nummers/2026-01-01-bestaat-niet/voorbeeld.html"]:
        answer = editor.get(path)
        assert answer.status_code == 404, path
        assert "Dit nummer bestaat niet" in answer.text, path
    # An encoded slash is a slash to the router: no issue route, the site's own 404.
    assert editor.get("/beheer/nummers/..%2Fprojects.yaml").status_code == 404
    answer = post(editor, "/beheer/nummers/2026-01-01-bestaat-niet/goedkeuren")
    assert answer.status_code == 404


# -- the list, the issue page, the preview ---------------------------------------------------


def test_the_list_shows_state_date_and_number(editor, db, site, clock) -> None:
    page = editor.get("/beheer/nummers").text
    assert "Overzicht van de projectoproepen" in page or SAMPLE_ID in page
    assert "niet goedgekeurd" in page and "5\u00a0december\u00a02026" in page
    approve(db, site, clock, SAMPLE_ID, by="Iemand")
    page = editor.get("/beheer/nummers").text
    assert "ingepland" in page and "ingepland op 5 december 2026 om 09:00" in page


def test_the_issue_page_shows_gate_preview_and_forms(editor) -> None:
    page = editor.get(ISSUE).text
    assert "Controle vóór verzending" in page and "Geen problemen gevonden" in page
    assert page.count(f'src="{ISSUE}/voorbeeld.html"') == 2
    assert 'width="375"' in page and 'width="800"' in page and " sandbox " in page
    assert 'action="/beheer/nummers/' + SAMPLE_ID + '/goedkeuren"' in page
    assert "/inplannen" not in page  # not approved yet: nothing to schedule


def test_the_preview_is_the_mail_for_a_fictional_reader_framed_by_us_only(editor) -> None:
    answer = editor.get(f"{ISSUE}/voorbeeld.html")
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in policy and "sandbox" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Voorbeeld" in answer.text and "voorbeeld=1" in answer.text
    # The app's own pages stay unframeable.
    assert "frame-ancestors 'none'" in editor.get(ISSUE).headers["content-security-policy"]


def test_a_broken_draft_lists_its_problems_and_cannot_be_approved(editor, db, site) -> None:
    draft = site.issues_dir / f"{SAMPLE_ID}.md"
    text = draft.read_text(encoding="utf-8")
    draft.write_text(text + "\n[klik hier](https://example.be/x)\n", encoding="utf-8")
    page = editor.get(ISSUE).text
    assert "1 probleem" in page and "zegt niets buiten de zin" in page
    answer = post(editor, f"{ISSUE}/goedkeuren")
    assert answer.status_code == 400
    assert "Dat lukte niet" in answer.text and "niet goedgekeurd" in answer.text
    assert get_release(db, SAMPLE_ID) is None and issue_audit(db) == []
    preview = editor.get(f"{ISSUE}/voorbeeld.html")
    assert preview.status_code == 200  # a gate problem still compiles: the editor sees it


# -- approve, schedule, unschedule -------------------------------------------------------------


def test_approve_records_who_and_the_content_hash(editor, db, site) -> None:
    answer = post(editor, f"{ISSUE}/goedkeuren")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{ISSUE}?melding=goedgekeurd"
    release = get_release(db, SAMPLE_ID)
    assert release is not None and release.approved_by == "eva.redacteur"
    assert release.content_hash == content_hash(compile_current(site, SAMPLE_ID)[1])
    # The front matter's send_at (5 December 09:00 Brussels) schedules it.
    assert release.state is IssueState.SCHEDULED
    assert release.send_at == datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    [event] = issue_audit(db)
    assert event.action == "issue.approve" and release.content_hash[:12] in event.detail
    page = editor.get(answer.headers["location"]).text
    assert "Goedgekeurd. Wie de editie" in page and "door eva.redacteur" in page


def test_schedule_and_unschedule(editor, db) -> None:
    post(editor, f"{ISSUE}/goedkeuren")
    answer = post(editor, f"{ISSUE}/inplannen", tijdstip="2026-12-10T10:00")
    assert answer.status_code == 303
    release = get_release(db, SAMPLE_ID)
    assert release.state is IssueState.SCHEDULED
    assert release.send_at == datetime(2026, 12, 10, 9, 0, tzinfo=UTC)  # 10:00 winter time
    assert 'value="2026-12-10T10:00"' in editor.get(ISSUE).text
    answer = post(editor, f"{ISSUE}/uitplannen")
    assert answer.status_code == 303
    release = get_release(db, SAMPLE_ID)
    assert release.state is IssueState.APPROVED and release.send_at is None
    assert [e.action for e in issue_audit(db)][:2] == ["issue.unschedule", "issue.schedule"]
    assert "10 december 2026" in issue_audit(db)[1].detail
    again = post(editor, f"{ISSUE}/uitplannen")
    assert again.status_code == 400 and "is niet ingepland" in again.text


@pytest.mark.parametrize(("value", "says"), [
    ("", "vul een datum en een uur in"),
    ("morgen om negen", "is geen tijdstip"),
    ("2026-11-30T09:00", "is voorbij"),
    ("2027-03-28T02:30", "bestaat niet in Brussel"),
    ("2027-10-31T02:30", "bestaat twee keer in Brussel"),
])
def test_bad_schedule_input_is_a_dutch_400_that_changes_nothing(editor, db, value,
                                                                 says) -> None:
    post(editor, f"{ISSUE}/goedkeuren")
    before = get_release(db, SAMPLE_ID)
    answer = post(editor, f"{ISSUE}/inplannen", tijdstip=value)
    assert answer.status_code == 400
    assert "Dat lukte niet" in answer.text and says in answer.text
    assert "--at" not in answer.text and "Tijdstip" in answer.text
    assert get_release(db, SAMPLE_ID) == before
    assert [e.action for e in issue_audit(db)] == ["issue.approve"]


def test_a_changed_draft_voids_the_approval(editor, db, site) -> None:
    post(editor, f"{ISSUE}/goedkeuren")
    draft = site.issues_dir / f"{SAMPLE_ID}.md"
    text = draft.read_text(encoding="utf-8")
    draft.write_text(text + "\nEen zin die na de goedkeuring werd toegevoegd.\n",
                     encoding="utf-8")
    page = editor.get(ISSUE).text
    assert "gewijzigd na goedkeuring door eva.redacteur" in page
    assert "deze editie wordt zo niet verstuurd" in page
    assert 'de knop "Opnieuw goedkeuren" hieronder' in page.replace("&#34;", '"')
    assert "digiweetjes approve" not in page
    assert "/inplannen" not in page  # the form is offered again only after a new approval
    before = get_release(db, SAMPLE_ID)
    answer = post(editor, f"{ISSUE}/inplannen", tijdstip="2026-12-10T10:00")
    assert answer.status_code == 400 and "gewijzigd na goedkeuring" in answer.text
    assert get_release(db, SAMPLE_ID) == before
    assert post(editor, f"{ISSUE}/goedkeuren").status_code == 303
    assert "gewijzigd na goedkeuring" not in editor.get(ISSUE).text


def test_the_audit_line_and_the_approval_commit_together(db, site, clock) -> None:
    def broken_audit(session) -> None:
        raise RuntimeError("audit failed")

    with pytest.raises(RuntimeError):
        approve(db, site, clock, SAMPLE_ID, by="Iemand", record=broken_audit)
    assert get_release(db, SAMPLE_ID) is None


# -- test mail -----------------------------------------------------------------------------------


def test_a_test_mail_goes_to_the_outbox_only(editor, db, site) -> None:
    answer = post(editor, f"{ISSUE}/testmail", adres="Eva.Redacteur@Example.be")
    assert answer.status_code == 303
    [mail] = outbox_files(site)
    message = mail.read_text(encoding="utf-8")
    assert "Eva.Redacteur@example.be" in message and "[TEST]" in message
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert get_release(db, SAMPLE_ID) is None
    [event] = issue_audit(db)
    assert event.action == "issue.test-send" and "example.be" in event.detail
    assert "Eva.Redacteur" not in event.detail  # the log keeps no address


@pytest.mark.parametrize(("value", "says"), [
    ("geen-adres", "is geen geldig e-mailadres"),
    ("a@example.be, b@example.be", "één adres"),
    ("", "minstens één adres"),
])
def test_a_test_mail_needs_one_valid_address(editor, db, site, value, says) -> None:
    answer = post(editor, f"{ISSUE}/testmail", adres=value)
    assert answer.status_code == 400 and says in answer.text
    assert "--to" not in answer.text
    assert outbox_files(site) == [] and issue_audit(db) == []


# -- a sent issue's delivery status ------------------------------------------------------------


def test_delivery_status_is_paged_and_shows_addresses_to_admins_only(site, db, clock) -> None:
    sent_campaign(db, site, clock.now(), recipients=70, failed=55, uncertain=5)
    editor = admin_client(site, db, clock, Role.EDITOR)
    page = editor.get(ISSUE).text
    assert "Verzendingen per toestand" in page and "Pagina 1 van 2" in page
    assert 'class="state state-sent"' in page  # no release row: the campaign's state
    assert page.count("geweigerd door de provider") == 50
    assert "lezer0000@example.be" not in page and "@example.be</td>" not in page
    second = editor.get(f"{ISSUE}?pagina=2").text
    assert second.count("geweigerd door de provider") == 5
    assert second.count("time-out na verzenden") == 5 and "Vorige pagina" in second
    admin = admin_client(site, db, clock, Role.ADMIN)
    assert "lezer0000@example.be" in admin.get(ISSUE).text


# -- the overview --------------------------------------------------------------------------------


def test_the_overview_counts_and_warns_above_the_thresholds(site, db, clock) -> None:
    _campaign, ids = sent_campaign(db, site, clock.now() - timedelta(days=3), recipients=30)
    reported(db, "complaint", ids[:1], clock.now())  # 1 of 30: 3.3 %, far over 0.1 %
    ledger_line(db, "confirmed", clock.now() - timedelta(days=1))
    ledger_line(db, "unsubscribed", clock.now() - timedelta(days=1))
    editor = admin_client(site, db, clock, Role.EDITOR)
    page = editor.get("/beheer").text
    assert "Let op:" in page and "te hoog" in page and "3,33 %" in page
    assert "over de laatste verzending meldde 3,33 %" in page
    assert "Aanmeldingen en uitschrijvingen per week" in page and "<svg" in page
    assert "+1 / −1" in page
    assert "@" not in page.replace("mailto:", "")  # counts only, no address
    assert "/beheer/abonnees" not in page
    assert "/beheer/abonnees" in admin_client(site, db, clock, Role.ADMIN).get("/beheer").text


def test_the_overview_of_an_empty_list_warns_not(editor) -> None:
    page = editor.get("/beheer").text
    assert "Er is nog niets naar de lijst verstuurd" in page and "Let op:" not in page
