"""The admin subscriber pages (/beheer/abonnees) through the ASGI app, on SQLite and PostgreSQL.

Every route refuses the anonymous (login redirect or 401), an editor (403) and a form without
or with a wrong CSRF token (403); each action changes the list as the CLI would, with an audit
row that never holds an address; bad input gets a Dutch 400 page and changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import func, select

from digiweetjes.models import (
    AuditEvent,
    ConsentEvent,
    Role,
    Subscriber,
    Suppression,
)
from digiweetjes.subscribers.hashing import Hasher
from tests.admin_support import admin_client, anonymous_client, csrf_field, form
from tests.helpers_subscribers import RecordingProvider
from tests.sending_support import add_subscriber, freeze, sample_issue

LIST = "/beheer/abonnees"
IMPORT = "/beheer/abonnees/importeren"


@pytest.fixture
def provider() -> RecordingProvider:
    return RecordingProvider()


@pytest.fixture
def admin(db, db_settings, clock, provider):
    return admin_client(db_settings, db, clock, Role.ADMIN, provider=provider)


@pytest.fixture
def editor(db, db_settings, clock, provider):
    return admin_client(db_settings, db, clock, Role.EDITOR, provider=provider)


@pytest.fixture
def person(db, db_settings, clock) -> int:
    return add_subscriber(db, db_settings, "lieve@example.be", now=clock.now(),
                          name="Lieve Vermeulen", municipality="Brugge", subregion="centrum")


def _count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _subscriber(db, subscriber_id: int) -> Subscriber:
    with db.session() as session:
        found = session.get(Subscriber, subscriber_id)
        assert found is not None
        session.expunge(found)
        return found


def _audit(db) -> list[AuditEvent]:
    with db.session() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        session.expunge_all()
        return events


def _csv_upload(text: str | bytes, name: str = "leden.csv", *, consent: str = "") -> dict:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return {"files": {"bestand": (name, data, "text/csv")}, "consent": consent}


def _post_upload(client, upload: dict, token: str | None = None):
    # The token goes first: asgi-csrf reads a multipart body up to the token, not past a file.
    fields = {"csrftoken": token or client.csrftoken, "toestemming": upload["consent"]}
    return client.post(IMPORT, data=fields, files=upload["files"])


# ---------------------------------------------------------------- who may do what

def _routes(person: int) -> list[tuple[str, str]]:
    base = f"{LIST}/{person}"
    return [("GET", LIST), ("GET", f"{LIST}/nieuw"), ("POST", f"{LIST}/nieuw"),
            ("GET", IMPORT), ("POST", IMPORT), ("POST", f"{IMPORT}/{'a' * 32}"),
            ("POST", f"{LIST}/export"), ("GET", base), ("POST", f"{base}/uitschrijven"),
            ("GET", f"{base}/wissen"), ("POST", f"{base}/wissen"), ("POST", f"{base}/gegevens")]


def test_anonymous_visitors_go_to_the_login_or_get_401(db, db_settings, clock, person) -> None:
    client = anonymous_client(db_settings, db, clock)
    token = form(client, "/beheer/aanmelden")
    for method, path in _routes(person):
        if method == "GET":
            answer = client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/beheer/aanmelden?volgende="), path
        else:
            answer = client.post(path, data={"csrftoken": token,
                                             "bevestig_adres": "lieve@example.be"})
            assert answer.status_code == 401, path
            assert "niet aangemeld" in answer.text, path
    assert _subscriber(db, person).status == "active"


def test_editors_get_403_on_every_subscriber_page(db, editor, person) -> None:
    for method, path in _routes(person):
        if method == "GET":
            answer = editor.get(path)
        else:
            answer = editor.post(path, data={"csrftoken": editor.csrftoken,
                                             "bevestig_adres": "lieve@example.be"})
        assert answer.status_code == 403, path
        assert "Hier heb je geen toegang" in answer.text, path
    assert _subscriber(db, person).status == "active"
    assert _count(db, Suppression) == 0


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_forms_without_the_right_csrf_token_are_refused(db, admin, person, token) -> None:
    for method, path in _routes(person):
        if method != "POST":
            continue
        data = {"bevestig_adres": "lieve@example.be", "email": "nieuw@example.be"}
        if token:
            data["csrftoken"] = token
        answer = admin.post(path, data=data)
        assert answer.status_code == 403, path
        assert "veiligheidskenmerk" in answer.text, path
    assert _subscriber(db, person).status == "active"
    assert _count(db, Subscriber) == 1


def test_a_multipart_upload_with_the_file_before_the_token_is_refused(db, admin) -> None:
    body_parts = [("bestand", ("leden.csv", b"E-mailadres\nx@example.be\n", "text/csv")),
                  ("csrftoken", (None, admin.csrftoken.encode()))]
    answer = admin.post(IMPORT, files=body_parts)
    assert answer.status_code == 403
    assert _count(db, Subscriber) == 0


def test_an_expired_session_goes_back_to_the_login(admin, clock, person) -> None:
    clock.advance(minutes=31)
    answer = admin.get(f"{LIST}/{person}")
    assert answer.status_code == 303
    assert "sessie=verlopen" in answer.headers["location"]
    answer = admin.post(f"{LIST}/{person}/uitschrijven", data={"csrftoken": admin.csrftoken})
    assert answer.status_code == 401


# ---------------------------------------------------------------- list and person


def test_list_searches_filters_and_pages_fifty_at_a_time(db, db_settings, clock, admin) -> None:
    for i in range(60):
        add_subscriber(db, db_settings, f"lid{i:02d}@example.be", now=clock.now(),
                       municipality="Damme" if i % 3 == 0 else "Brugge",
                       status="pending" if i == 7 else "active", name=f"Lid {i:02d}")
    first = admin.get(LIST)
    assert first.status_code == 200
    assert "60 abonnees gevonden" in first.text
    assert first.text.count('href="/beheer/abonnees/') >= 50
    assert "lid49@example.be" in first.text and "lid50@example.be" not in first.text
    assert "pagina=2" in first.text
    second = admin.get(LIST, params={"pagina": "2"})
    assert "lid50@example.be" in second.text and "lid49@example.be" not in second.text
    found = admin.get(LIST, params={"q": "LID07"})
    assert "1 abonnee gevonden" in found.text and "lid07@example.be" in found.text
    damme = admin.get(LIST, params={"gemeente": "Damme", "status": "active"})
    assert "20 abonnees gevonden" in damme.text
    assert admin.get(LIST, params={"pagina": "3"}).status_code == 404


@pytest.mark.parametrize("params", [{"status": "hacked"}, {"gemeente": "Atlantis"},
                                    {"pagina": "0"}, {"pagina": "x"}, {"q": "a\x00b"}])
def test_a_filter_no_page_makes_is_a_dutch_400(admin, params) -> None:
    answer = admin.get(LIST, params=params)
    assert answer.status_code == 400
    assert "Deze zoekopdracht klopt niet" in answer.text


def test_person_page_shows_details_consent_history_and_deliveries(
        db, db_settings, clock, admin, person) -> None:
    with db.session() as session:
        session.add(ConsentEvent(subscriber_id=person, email="lieve@example.be",
                                 email_hash=Hasher(db_settings).email("lieve@example.be"),
                                 event="subscribed", occurred_at=clock.now(), source="form",
                                 privacy_notice_version="2026-01", detail="via het formulier"))
    freeze(db, sample_issue(db_settings), "outbox", clock.now())
    answer = admin.get(f"{LIST}/{person}")
    assert answer.status_code == 200
    text = answer.text
    assert "lieve@example.be" in text and "Lieve Vermeulen" in text and "Brugge" in text
    assert "ingeschreven" in text and "via het formulier" in text and "2026-01" in text
    assert "in de wachtrij" in text
    assert admin.get(f"{LIST}/999999").status_code == 404


# ---------------------------------------------------------------- add, unsubscribe, erase


def _add(admin, **fields):
    data = {"csrftoken": admin.csrftoken, "email": "", "naam": "", "gemeente": "",
            "toestemming": ""}
    data.update(fields)
    return admin.post(f"{LIST}/nieuw", data=data)


def test_adding_with_a_consent_source_makes_an_active_subscriber(db, admin, provider) -> None:
    answer = _add(admin, email="Jonas@Example.be", naam="Jonas", gemeente="Damme",
                  interesses=["digitale-toegang"], toestemming="papieren formulier infosessie")
    assert answer.status_code == 303
    subscriber_id = int(answer.headers["location"].split("/")[-1].split("?")[0])
    added = _subscriber(db, subscriber_id)
    assert (added.email, added.status, added.municipality) == ("Jonas@example.be", "active",
                                                               "Damme")
    assert added.topics == ["digitale-toegang"]
    assert added.consent_note == "papieren formulier infosessie"
    assert provider.sent == []
    [event] = [e for e in _audit(db) if e.action == "subscriber.add"]
    assert event.actor == "test-admin" and f"#{subscriber_id}" in event.detail
    assert "example.be" not in event.detail.lower()
    page = admin.get(answer.headers["location"])
    assert "De abonnee is toegevoegd." in page.text


def test_adding_without_a_consent_source_mails_a_confirmation(db, admin, provider) -> None:
    answer = _add(admin, email="amal@example.be")
    assert answer.status_code == 303
    assert [m.to for m in provider.sent] == ["amal@example.be"]
    with db.session() as session:
        assert session.scalars(select(Subscriber.status)).one() == "pending"


@pytest.mark.parametrize("fields, message", [
    ({"email": "geen-adres"}, "Vul een geldig e-mailadres in"),
    ({"email": ""}, "Vul het e-mailadres in"),
    ({"email": "a@example.be", "gemeente": "Atlantis"}, "Kies een gemeente uit de lijst"),
    ({"email": "a@example.be", "interesses": ["onbekend"]}, "Kies de interesses"),
    ({"email": "a@example.be", "naam": "x" * 201}, "hoogstens 200 tekens"),
    ({"email": "a@example.be", "toestemming": "x" * 501}, "hoogstens 500 tekens"),
])
def test_bad_input_on_the_add_form_is_a_dutch_400(db, admin, fields, message) -> None:
    answer = _add(admin, **fields)
    assert answer.status_code == 400
    assert message in answer.text
    assert "Er is een probleem" in answer.text
    assert _count(db, Subscriber) == 0
    assert not [e for e in _audit(db) if e.action == "subscriber.add"]


def test_adding_an_address_already_on_the_list_or_suppressed_is_refused(
        db, db_settings, clock, admin, person) -> None:
    answer = _add(admin, email="LIEVE@example.be")
    assert answer.status_code == 400
    assert "staat al op de lijst" in answer.text and f"/beheer/abonnees/{person}" in answer.text
    from tests.sending_support import suppress

    suppress(db, db_settings, "weg@example.be", clock.now())
    answer = _add(admin, email="weg@example.be", toestemming="formulier")
    assert answer.status_code == 400 and "blokkeerlijst" in answer.text
    assert _count(db, Subscriber) == 1


def test_unsubscribing_keeps_the_person_suppressed(db, admin, person) -> None:
    answer = admin.post(f"{LIST}/{person}/uitschrijven", data={"csrftoken": admin.csrftoken})
    assert answer.status_code == 303
    assert _subscriber(db, person).status == "unsubscribed"
    assert _count(db, Suppression) == 1
    [event] = [e for e in _audit(db) if e.action == "subscriber.unsubscribe"]
    assert event.detail == f"abonnee #{person}"
    assert "uitgeschreven en staat op de blokkeerlijst" in admin.get(
        answer.headers["location"]).text


def test_erasing_needs_the_address_typed_over_and_leaves_no_address(
        db, db_settings, admin, person) -> None:
    page = admin.get(f"{LIST}/{person}/wissen")
    assert page.status_code == 200 and "kan niet ongedaan gemaakt worden" in page.text
    token = csrf_field(page.text)
    wrong = admin.post(f"{LIST}/{person}/wissen",
                       data={"csrftoken": token, "bevestig_adres": "iemand@example.be"})
    assert wrong.status_code == 400 and "precies over" in wrong.text
    assert _subscriber(db, person).status == "active"
    right = admin.post(f"{LIST}/{person}/wissen",
                       data={"csrftoken": token, "bevestig_adres": " Lieve@Example.BE "})
    assert right.status_code == 303
    erased = _subscriber(db, person)
    assert (erased.status, erased.email, erased.name) == ("erased", None, None)
    with db.session() as session:
        assert session.get(Suppression, Hasher(db_settings).email("lieve@example.be"))
    events = _audit(db)
    assert next(e.detail for e in events if e.action == "subscriber.erase").startswith(
        f"abonnee #{person} ")
    assert not any("lieve" in (e.detail + e.action).lower() for e in events)
    after = admin.get(right.headers["location"])
    assert "Gewiste abonnee" in after.text and "lieve@example.be" not in after.text
    again = admin.post(f"{LIST}/{person}/wissen",
                       data={"csrftoken": token, "bevestig_adres": "lieve@example.be"})
    assert again.status_code == 400


def test_gdpr_export_of_one_person_is_a_json_download(db, admin, person) -> None:
    answer = admin.post(f"{LIST}/{person}/gegevens", data={"csrftoken": admin.csrftoken})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert f'filename="gegevens-abonnee-{person}.json"' in answer.headers["content-disposition"]
    data = json.loads(answer.content)
    assert data["email"] == "lieve@example.be"
    assert data["subscriber"]["name"] == "Lieve Vermeulen"
    assert [e.detail for e in _audit(db) if e.action == "subscriber.export"] == [
        f"abonnee #{person}"]


# ---------------------------------------------------------------- CSV export


def test_csv_export_is_for_excel_and_defuses_formulas(db, db_settings, clock, admin) -> None:
    add_subscriber(db, db_settings, "jan@example.be", now=clock.now(),
                   name='=HYPERLINK("http://evil.example","klik")', municipality="Brugge")
    add_subscriber(db, db_settings, "els@example.be", now=clock.now(), name="Els",
                   municipality="Damme")
    answer = admin.post(f"{LIST}/export", data={"csrftoken": admin.csrftoken,
                                                 "gemeente": "Brugge"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert re.search(r'filename="digiweetjes-abonnees-2026-12-01\.csv"',
                     answer.headers["content-disposition"])
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "E-mailadres"
    assert [r[0] for r in rows[1:]] == ["jan@example.be"]
    assert rows[1][1].startswith("'=HYPERLINK")
    [event] = [e for e in _audit(db) if e.action == "subscribers.export"]
    assert event.detail == "1 abonnees (gemeente=Brugge)"


def test_csv_export_with_a_filter_no_page_makes_is_refused(db, admin) -> None:
    answer = admin.post(f"{LIST}/export", data={"csrftoken": admin.csrftoken,
                                                 "status": "alles"})
    assert answer.status_code == 400
    assert not [e for e in _audit(db) if e.action == "subscribers.export"]


# ---------------------------------------------------------------- CSV import


def _import_action(page: str) -> str:
    match = re.search(r'action="(/beheer/abonnees/importeren/[A-Za-z0-9_-]{32})"', page)
    assert match, "no import button on the report"
    return match.group(1)


def test_import_is_checked_first_then_imports_the_same_file(db, admin, provider) -> None:
    lines = "E-mailadres;Naam;Gemeente\r\nanna@example.be;Anna;Brugge\r\nbert@example.be;Bert;\r\n"
    check = _post_upload(admin, _csv_upload(lines, consent="infosessie Damme 2026-03-12"))
    assert check.status_code == 200, check.text
    assert "Controle van leden.csv" in check.text
    assert "puntkomma" in check.text and "UTF-8" in check.text
    assert "Nieuw, zou toegevoegd worden (status: actief)" in check.text
    assert _count(db, Subscriber) == 0  # a dry run changes nothing
    action = _import_action(check.text)
    done = admin.post(action, data={"csrftoken": csrf_field(check.text)})
    assert done.status_code == 200, done.text
    assert "De import is gebeurd: 2 abonnees toegevoegd (status: actief)." in done.text
    with db.session() as session:
        rows = session.execute(select(Subscriber.email, Subscriber.status, Subscriber.source,
                                      Subscriber.consent_note).order_by(Subscriber.email)).all()
    assert rows == [("anna@example.be", "active", "import", "infosessie Damme 2026-03-12"),
                    ("bert@example.be", "active", "import", "infosessie Damme 2026-03-12")]
    assert provider.sent == []
    [event] = [e for e in _audit(db) if e.action == "subscribers.import"]
    assert event.detail.startswith("leden.csv (sha256 ") and "2 toegevoegd" in event.detail
    # The kept file is gone: importing it twice is impossible.
    again = admin.post(action, data={"csrftoken": csrf_field(check.text)})
    assert again.status_code == 410 and "niet meer beschikbaar" in again.text
    assert _count(db, Subscriber) == 2


def test_a_pending_import_mails_the_confirmations(db, admin, provider) -> None:
    check = _post_upload(admin, _csv_upload("E-mailadres\nanna@example.be\nbert@example.be\n"))
    done = admin.post(_import_action(check.text), data={"csrftoken": admin.csrftoken})
    assert done.status_code == 200
    assert "2 bevestigingsmails verstuurd" in done.text
    assert sorted(m.to for m in provider.sent) == ["anna@example.be", "bert@example.be"]


def test_a_windows_1252_file_from_excel_reads_its_accents(db, admin) -> None:
    data = "E-mailadres;Naam;Gemeente\r\nzoe@example.be;Zoë Hénon;Knokke-Heist\r\n".encode(
        "cp1252")
    check = _post_upload(admin, _csv_upload(data, "Leden Café.csv"))
    assert check.status_code == 200
    assert "Windows-1252" in check.text
    assert admin.post(_import_action(check.text),
                      data={"csrftoken": admin.csrftoken}).status_code == 200
    with db.session() as session:
        assert session.scalars(select(Subscriber.name)).one() == "Zoë Hénon"


def test_rejected_rows_are_listed_by_line_and_nothing_is_imported(db, admin) -> None:
    lines = ("E-mailadres;Naam;Gemeente\nanna@example.be;Anna;Brugge\ngeen-adres;Bert;\n"
             "carl@example.be;Carl;Atlantis\n")
    check = _post_upload(admin, _csv_upload(lines))
    assert check.status_code == 400
    assert "2 rijen geweigerd: er is niets geïmporteerd" in check.text
    assert "leden.csv, rij 3: ongeldig e-mailadres" in check.text
    assert "leden.csv, rij 4: onbekende gemeente" in check.text
    assert "importeren/" not in re.sub(r'href="/beheer/abonnees/importeren"', "", check.text)
    assert _count(db, Subscriber) == 0
    assert not [e for e in _audit(db) if e.action == "subscribers.import"]


@pytest.mark.parametrize("data, name, message", [
    (b"PK\x03\x04" + b"\x00" * 200, "leden.xlsx", "Excel-werkmap"),
    (b"E-mailadres\nanna@example.be\x00\n", "leden.csv", "NUL-bytes"),
    (b"", "leden.csv", "is leeg"),
    (b"Naam;Gemeente\nAnna;Brugge\n", "leden.csv", "geen kolom met e-mailadressen"),
])
def test_a_file_that_is_not_a_list_is_a_dutch_400(db, admin, data, name, message) -> None:
    answer = _post_upload(admin, _csv_upload(data, name))
    assert answer.status_code == 400
    assert message in answer.text
    assert "Dit bestand kan niet geïmporteerd worden" in answer.text or "is leeg" in answer.text
    assert _count(db, Subscriber) == 0
    assert not list((admin.app.state.context.settings.root / "imports").glob("*/upload.json"))


def test_an_upload_without_a_file_is_a_dutch_400(db, admin) -> None:
    answer = admin.post(IMPORT, data={"csrftoken": admin.csrftoken, "toestemming": ""},
                        files={"leeg": ("", b"", "application/octet-stream")})
    assert answer.status_code == 400
    assert "Kies het CSV-bestand" in answer.text


def test_an_upload_over_the_limit_is_refused_before_it_is_read(db, db_settings, clock,
                                                                  provider) -> None:
    from dataclasses import replace

    small = db_settings.with_(web=replace(db_settings.web, import_max_bytes=2_000))
    client = admin_client(small, db, clock, Role.ADMIN, provider=provider)
    big = "E-mailadres\n" + "".join(f"lid{i}@example.be\n" for i in range(500))
    answer = _post_upload(client, _csv_upload(big))
    assert answer.status_code == 413
    assert "Dit is te veel gegevens" in answer.text
    assert _count(db, Subscriber) == 0
    # The default allows a real list (20 MB), far above the other forms' 16 kB.
    assert db_settings.web.import_max_bytes >= 20_000_000 > db_settings.web.max_form_bytes


def test_a_kept_file_expires_and_belongs_to_its_uploader(db, db_settings, clock, admin,
                                                          provider) -> None:
    check = _post_upload(admin, _csv_upload("E-mailadres\nanna@example.be\n"))
    action = _import_action(check.text)
    other = admin_client(db_settings, db, clock, Role.ADMIN, name="andere", provider=provider)
    assert other.post(action, data={"csrftoken": other.csrftoken}).status_code == 410
    clock.advance(minutes=20)
    assert admin.get(LIST).status_code == 200  # the session stays alive; the file ages
    clock.advance(minutes=11)
    answer = admin.post(action, data={"csrftoken": admin.csrftoken})
    assert answer.status_code == 410
    assert _count(db, Subscriber) == 0
