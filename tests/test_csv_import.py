"""CSV import: Excel's encodings and delimiters, bad rows reported, all or nothing; both lanes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from digiweetjes.clock import FixedClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import CsvImportError
from digiweetjes.models import ConsentEvent, Subscriber
from digiweetjes.subscribers import find_subscriber, remove_subscriber, send_pending_confirmations
from digiweetjes.subscribers.csv_import import detect_delimiter, fold_header, import_csv
from tests.helpers_subscribers import RecordingProvider

GOOD_ROWS = [
    ("Jan.Peeters@Voorbeeld.be", "Jan Peeters", "Brugge"),
    ("élise.dupré@voorbeeld.be", "Élise Dupré", "Knokke-Heist"),
    ("noël@voorbeeld.be", "Noël D'Hondt", ""),
    ("an@voorbeeld.be", "An Maes", "zedelgem"),
]


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _excel(rows, delimiter: str = ";", header=("E-mailadres", "Naam", "Gemeente")) -> str:
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def _count(db: Database, model=Subscriber) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _import(db: Database, settings: Settings, clock: FixedClock, path: Path, **kwargs):
    with db.session() as session:
        return import_csv(session, clock, settings, path, **kwargs)


# Latin-1 names need cp1252; the others can hold anything.
@pytest.mark.parametrize(("encoding", "delimiter", "expected"), [
    ("utf-8-sig", ";", "utf-8-sig"),
    ("cp1252", ";", "cp1252"),
    ("utf-8", ",", "utf-8"),
    ("utf-8", ";", "utf-8"),
    ("cp1252", ",", "cp1252"),
    ("utf-16", "\t", "utf-16"),
])
def test_each_encoding_and_delimiter_is_detected(db: Database, db_settings: Settings,
                                                 clock: FixedClock, tmp_path: Path,
                                                 encoding: str, delimiter: str,
                                                 expected: str) -> None:
    path = _write(tmp_path / "leden.csv", _excel(GOOD_ROWS, delimiter), encoding)
    report = _import(db, db_settings, clock, path, consent_source="inschrijvingslijst 2026")
    assert (report.encoding, report.delimiter) == (expected, delimiter)
    assert report.added == 4 and report.rejected == 0
    with db.session() as session:
        elise = find_subscriber(session, "ÉLISE.DUPRÉ@voorbeeld.be")
        assert elise is not None and elise.name == "Élise Dupré"
        assert elise.municipality == "Knokke-Heist" and elise.subregion == "noord"
        assert elise.status == "active" and elise.source == "import"
        assert elise.consent_note == "inschrijvingslijst 2026"
        assert elise.created_at == elise.confirmed_at == clock.now()
        # Stored exactly as the ORM stores timestamps: comparisons in SQL agree.
        assert session.scalar(select(func.count()).select_from(Subscriber).where(
            Subscriber.created_at == clock.now())) == 4
        noel = find_subscriber(session, "noël@voorbeeld.be")
        assert noel.name == "Noël D'Hondt" and noel.municipality is None
        assert find_subscriber(session, "an@voorbeeld.be").municipality == "Zedelgem"
        events = session.scalars(select(ConsentEvent)).all()
        assert len(events) == 4 and {e.event for e in events} == {"imported"}
        assert all("inschrijvingslijst 2026" in (e.detail or "") for e in events)


def test_bad_rows_are_all_reported_and_nothing_is_imported(db: Database, db_settings: Settings,
                                                           clock: FixedClock,
                                                           tmp_path: Path) -> None:
    text = (
        "E-mailadres;Naam;Gemeente\r\n"          # row 1 (as Excel counts)
        "goed@voorbeeld.be;Goed;Brugge\r\n"       # 2 fine
        "geen-adres;Fout;Brugge\r\n"              # 3 invalid address
        "\r\n"                                    # 4 empty line: skipped, not an error
        ";;\r\n"                                  # 5 only delimiters: empty too
        "Dubbel@Voorbeeld.be;Een;Damme\r\n"       # 6 fine
        "dubbel@VOORBEELD.be;Twee;Damme\r\n"      # 7 duplicate differing in case: skipped
        "kort@voorbeeld.be\r\n"                   # 8 missing columns
        "gent@voorbeeld.be;Iemand;Gent\r\n"       # 9 onbekende gemeente
        ";Zonder adres;Brugge\r\n"                # 10 no address
        "a@b;X;\r\n"                              # 11 invalid address
        "te@veel.be;Een;Brugge;extra\r\n"         # 12 too many columns
    )
    path = _write(tmp_path / "leden.csv", text, "utf-8-sig")
    with pytest.raises(CsvImportError) as caught:
        _import(db, db_settings, clock, path, consent_source="lijst")
    message = str(caught.value)
    assert message.startswith("leden.csv: 6 rij(en) geweigerd, niets geïmporteerd:")
    for line, reason in ((3, "ongeldig e-mailadres 'geen-adres'"),
                         (8, "er ontbreekt: Naam, Gemeente"), (9, "onbekende gemeente 'Gent'"),
                         (10, "geen e-mailadres"), (11, "ongeldig e-mailadres 'a@b'"),
                         (12, "4 kolommen")):
        (found,) = [m for m in message.splitlines() if m.startswith(f"leden.csv, rij {line}: ")]
        assert reason in found, (line, message)
    assert "rij 4:" not in message and "rij 7:" not in message
    report = caught.value.report
    assert report.duplicates == 1 and report.empty_lines == 2
    assert any("leden.csv, rij 7: dubbel@voorbeeld.be staat al op rij 6, overgeslagen" in n
               for n in report.notes)
    assert _count(db) == 0 and _count(db, ConsentEvent) == 0


def test_rejection_after_many_chunks_still_imports_nothing(db: Database,
                                                           db_settings: Settings,
                                                           clock: FixedClock,
                                                           tmp_path: Path) -> None:
    rows = [(f"p{n}@voorbeeld.be", f"Persoon {n}", "Brugge") for n in range(250)]
    rows.append(("kapot", "Laatste", "Brugge"))
    path = _write(tmp_path / "groot.csv", _excel(rows), "utf-8")
    with pytest.raises(CsvImportError, match=r"groot.csv, rij 252: ongeldig e-mailadres 'kapot'"):
        _import(db, db_settings, clock, path, consent_source="lijst", chunk_size=50)
    assert _count(db) == 0 and _count(db, ConsentEvent) == 0


def test_skip_invalid_imports_the_rest(db: Database, db_settings: Settings, clock: FixedClock,
                                       tmp_path: Path) -> None:
    path = _write(tmp_path / "l.csv", _excel([("ok@voorbeeld.be", "Ok", ""),
                                              ("kapot", "X", "")]), "utf-8")
    report = _import(db, db_settings, clock, path, consent_source="lijst", skip_invalid=True)
    assert (report.added, report.rejected) == (1, 1)
    assert report.problems == ["l.csv, rij 3: ongeldig e-mailadres 'kapot': "
                               + report.problems[0].split(": ", 2)[2]]
    assert _count(db) == 1


def test_existing_and_suppressed_addresses_are_skipped_and_counted(db: Database,
                                                                  db_settings: Settings,
                                                                  clock: FixedClock,
                                                                  tmp_path: Path) -> None:
    first = _write(tmp_path / "eerste.csv", _excel([("blijft@voorbeeld.be", "B", ""),
                                                    ("weg@voorbeeld.be", "W", "")]), "utf-8")
    _import(db, db_settings, clock, first, consent_source="lijst")
    with db.session() as session:
        remove_subscriber(session, clock, db_settings, "weg@voorbeeld.be")
    second = _write(tmp_path / "tweede.csv", _excel([
        ("BLIJFT@voorbeeld.be", "B", ""), ("Weg@Voorbeeld.be", "W", ""),
        ("nieuw@voorbeeld.be", "N", "")]), "cp1252")
    report = _import(db, db_settings, clock, second, consent_source="lijst")
    assert (report.added, report.already_on_list, report.suppressed) == (1, 1, 1)
    assert any("Weg@voorbeeld.be staat op de blokkeerlijst" in n for n in report.notes)
    with db.session() as session:
        assert find_subscriber(session, "weg@voorbeeld.be").status == "unsubscribed"
    assert _count(db) == 3


def test_dry_run_changes_nothing(db: Database, db_settings: Settings, clock: FixedClock,
                                 tmp_path: Path) -> None:
    path = _write(tmp_path / "l.csv", _excel(GOOD_ROWS), "utf-8-sig")
    report = _import(db, db_settings, clock, path, dry_run=True)
    assert report.dry_run and report.added == 4 and report.status == "pending"
    assert _count(db) == 0 and _count(db, ConsentEvent) == 0


def test_without_consent_source_people_are_pending_and_get_confirmations(
        db: Database, db_settings: Settings, clock: FixedClock, tmp_path: Path) -> None:
    path = _write(tmp_path / "l.csv", _excel(GOOD_ROWS), "utf-8-sig")
    report = _import(db, db_settings, clock, path)
    assert report.status == "pending" and report.added == 4
    provider = RecordingProvider()
    with db.session() as session:
        assert send_pending_confirmations(session, provider, clock, db_settings) == 4
        assert all(s.status == "pending" for s in session.scalars(select(Subscriber)))
        details = [e.detail for e in session.scalars(select(ConsentEvent))]
    assert sorted(m.to for m in provider.sent) == sorted(
        ["Jan.Peeters@voorbeeld.be", "élise.dupré@voorbeeld.be", "noël@voorbeeld.be",
         "an@voorbeeld.be"])
    assert all(m.kind == "confirm" for m in provider.sent)
    assert "l.csv rij 2; bevestiging gevraagd" in details


def test_header_variants_first_and_last_name_and_topics(db: Database, db_settings: Settings,
                                                       clock: FixedClock,
                                                       tmp_path: Path) -> None:
    text = ("Voornaam;Achternaam;E-mail;Woonplaats;Interesses;Telefoon\r\n"
            '"Jan";"De Smet; jr.";jan@voorbeeld.be;Beernem;"Projectoproepen, digitale '
            'toegang";050 00 00 00\r\n')
    path = _write(tmp_path / "l.csv", text, "utf-8")
    report = _import(db, db_settings, clock, path, consent_source="lijst")
    assert report.ignored_columns == ["Telefoon"]
    with db.session() as session:
        jan = find_subscriber(session, "jan@voorbeeld.be")
        assert jan.name == "Jan De Smet; jr." and jan.municipality == "Beernem"
        assert jan.topics == ["digitale-toegang", "projectoproepen"]


def test_file_without_header_row(db: Database, db_settings: Settings, clock: FixedClock,
                                 tmp_path: Path) -> None:
    path = _write(tmp_path / "l.csv", "een@voorbeeld.be\ntwee@voorbeeld.be\n", "utf-8")
    report = _import(db, db_settings, clock, path, consent_source="lijst")
    assert not report.has_header and report.added == 2


def test_multiline_quoted_field_keeps_line_numbers(db: Database, db_settings: Settings,
                                                   clock: FixedClock, tmp_path: Path) -> None:
    text = ('E-mailadres;Naam\r\n"a@voorbeeld.be";"Naam over\r\ntwee regels"\r\n'
            "kapot;X\r\n")
    path = _write(tmp_path / "l.csv", text, "utf-8")
    # "kapot" is on the file's 4th line but in Excel's row 3: rows count as Excel shows them.
    with pytest.raises(CsvImportError, match=r"l.csv, rij 3: ongeldig e-mailadres 'kapot'"):
        _import(db, db_settings, clock, path, consent_source="lijst")


@pytest.mark.parametrize(("content", "message"), [
    (b"", "het bestand is leeg"),
    (b"Naam;Gemeente\r\nJan;Brugge\r\n",
     "l.csv, rij 1: geen kolom met e-mailadressen: gevonden 'Naam', 'Gemeente'"),
    (b"E-mail;Email\r\na@voorbeeld.be;b@voorbeeld.be\r\n", "twee kolommen voor E-mailadres"),
    (b"E-mailadres\r\nx@voorbeeld.be\r\n" + b"\x81\x8d\x90",
     "regel 3: het bestand is geen UTF-8- of Windows-1252-tekst"),
    (b'E-mailadres;Naam\r\na@voorbeeld.be;"unterminated\r\n', "l.csv, rij 2: geen leesbare CSV"),
])
def test_unusable_files_are_refused_clearly(db: Database, db_settings: Settings,
                                            clock: FixedClock, tmp_path: Path, content: bytes,
                                            message: str) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(content)
    with pytest.raises(CsvImportError, match=message):
        _import(db, db_settings, clock, path, consent_source="lijst")
    assert _count(db) == 0


def test_helpers() -> None:
    assert fold_header("\ufeffE-mailadres ") == "emailadres"
    assert fold_header("Thema's") == "themas"
    assert detect_delimiter("a;b;c") == ";" and detect_delimiter("a,b") == ","
    assert detect_delimiter("a\tb") == "\t" and detect_delimiter("email") == ";"
