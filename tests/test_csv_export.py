"""CSV export for Excel: UTF-8 BOM, ";", Dutch dates, filters, no formula injection."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from digiweetjes.clock import FixedClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.subscribers import add_subscriber, erase, remove_subscriber
from digiweetjes.subscribers.csv_export import HEADERS, export_csv
from digiweetjes.subscribers.csv_import import import_csv
from tests.helpers_subscribers import RecordingProvider


def _seed(db: Database, settings: Settings, clock: FixedClock) -> None:
    provider = RecordingProvider()
    with db.session() as session:
        for email, name, municipality, topics in (
            ("jan@voorbeeld.be", "Jan Peeters", "Brugge", ["projectoproepen"]),
            ("élise@voorbeeld.be", "Élise Dupré", "Damme", []),
            ("formule@voorbeeld.be", "=HYPERLINK(\"http://x\")", "Torhout", []),
            ("weg@voorbeeld.be", "Weg", "Damme", []),
            ("gewist@voorbeeld.be", "Gewist", "Damme", []),
        ):
            add_subscriber(session, provider, clock, settings, email=email, name=name,
                           municipality=municipality, topics=topics, consent_source="lijst")
        remove_subscriber(session, clock, settings, "weg@voorbeeld.be")
        erase(session, clock, settings, "gewist@voorbeeld.be")


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_export_file_opens_in_excel(db: Database, db_settings: Settings, clock: FixedClock,
                                    tmp_path: Path) -> None:
    _seed(db, db_settings, clock)
    path = tmp_path / "export.csv"
    with db.session() as session, path.open("w", encoding="utf-8-sig", newline="") as out:
        assert export_csv(session, out) == 4  # the erased tombstone is never exported
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    rows = _rows(raw.decode("utf-8-sig"))
    assert tuple(rows[0]) == HEADERS
    by_email = {row[0]: dict(zip(HEADERS, row, strict=True)) for row in rows[1:]}
    assert set(by_email) == {"jan@voorbeeld.be", "élise@voorbeeld.be", "formule@voorbeeld.be",
                             "weg@voorbeeld.be"}
    jan = by_email["jan@voorbeeld.be"]
    assert jan["Naam"] == "Jan Peeters" and jan["Gemeente"] == "Brugge"
    assert jan["Subregio"] == "centrum" and jan["Interesses"] == "Projectoproepen en subsidies"
    assert jan["Status"] == "active" and jan["Toestemming"] == "lijst"
    # 09:00 UTC on 1 December is 10:00 in Brussels; dd-mm-yyyy is what Excel nl-BE reads.
    assert jan["Ingeschreven op"] == "01-12-2026 10:00"
    assert by_email["weg@voorbeeld.be"]["Uitgeschreven op"] == "01-12-2026 10:00"
    assert by_email["formule@voorbeeld.be"]["Naam"].startswith("'=")  # no formula injection
    assert by_email["élise@voorbeeld.be"]["Naam"] == "Élise Dupré"


def test_filters(db: Database, db_settings: Settings, clock: FixedClock) -> None:
    _seed(db, db_settings, clock)
    with db.session() as session:
        for kwargs, expected in (
            ({"status": "active"}, {"jan@voorbeeld.be", "élise@voorbeeld.be",
                                    "formule@voorbeeld.be"}),
            ({"municipality": "Damme"}, {"élise@voorbeeld.be", "weg@voorbeeld.be"}),
            ({"status": "active", "municipality": "Damme"}, {"élise@voorbeeld.be"}),
            ({"subregion": "west"}, {"formule@voorbeeld.be"}),
            ({"topic": "projectoproepen", "municipality": "Brugge"}, {"jan@voorbeeld.be"}),
            ({"status": "erased"}, set()),
        ):
            out = io.StringIO()
            count = export_csv(session, out, **kwargs)
            emails = {row[0] for row in _rows(out.getvalue())[1:]}
            assert emails == expected, kwargs
            assert count == len(expected)


def test_export_can_be_imported_again(db: Database, db_settings: Settings, clock: FixedClock,
                                      tmp_path: Path) -> None:
    _seed(db, db_settings, clock)
    path = tmp_path / "export.csv"
    with db.session() as session, path.open("w", encoding="utf-8-sig", newline="") as out:
        export_csv(session, out, status="active")
    with db.session() as session:
        report = import_csv(session, clock, db_settings, path, dry_run=True)
    assert report.encoding == "utf-8-sig" and report.delimiter == ";"
    assert report.rows == 3 and report.already_on_list == 3 and report.rejected == 0
