"""Hostile CSV files through ``digiweetjes subscribers import``: a clear line, nothing changed.

Each case is a file as someone might hand it over (or as an attacker would craft it); the test
asserts what the person sees (the message with file and line, the exit code), that no traceback
reaches them, and that the database and the outbox are exactly as before on a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from digiweetjes.db import Base, Database
from digiweetjes.models import Subscriber
from tests.cli_support import cli_env, run

HEADER = "E-mailadres;Naam;Gemeente\r\n"
GOOD = "goed@voorbeeld.be;Goed Persoon;Brugge\r\n"
SAVE_AS = "bewaar de lijst in Excel als 'CSV UTF-8 (gescheiden door lijstscheidingstekens)'"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> dict[str, str]:
    return cli_env(monkeypatch, tmp_path, database_url)


@pytest.fixture
def database(env: dict[str, str], capsys: pytest.CaptureFixture[str]):
    """An initialised list holding one person and one suppressed address."""
    assert run(capsys, "init")[0] == 0
    for argv in (("subscribers", "add", "bestaand@voorbeeld.be", "--consent-source", "formulier"),
                 ("subscribers", "add", "weg@example.org", "--consent-source", "formulier"),
                 ("subscribers", "remove", "weg@example.org")):
        code, _, err = run(capsys, *argv)
        assert code == 0, err
    database = Database(env["DIGIWEETJES_DATABASE_URL"])
    yield database
    database.dispose()


def snapshot(database: Database, root: Path) -> tuple[object, ...]:
    """Every row of every table, and every file below the outbox."""
    with database.session() as session:
        rows = tuple(tuple(sorted(map(repr, session.execute(select(table)).all())))
                     for table in Base.metadata.sorted_tables)
    outbox = root / "outbox"
    files = tuple(sorted((str(p), p.read_bytes()) for p in outbox.rglob("*") if p.is_file()))
    return rows, files


def names(database: Database) -> dict[str, str | None]:
    with database.session() as session:
        return {s.email: s.name for s in session.scalars(select(Subscriber))}


# ---------------------------------------------------------------- refused files


@dataclass(frozen=True)
class Refused:
    id: str
    content: bytes
    message: str  # the complete first line of the error, file and line included


WIDE = ";".join(f"kolom{i}" for i in range(100_000))
REFUSED = [
    Refused("empty file", b"", "Fout: l.csv: het bestand is leeg"),
    Refused("only a BOM", b"\xef\xbb\xbf", "Fout: l.csv: het bestand is leeg"),
    Refused("only blank lines", b"\r\n  \r\n;;\r\n", "Fout: l.csv: het bestand is leeg"),
    Refused("NUL byte in a row", (HEADER + GOOD + "c@voorbeeld.be;Ca\x00rl;Damme\r\n").encode(),
            f"Fout: l.csv, regel 3: het bestand bevat NUL-bytes: dit is geen tekstbestand (CSV); "
            f"{SAVE_AS}; niets geïmporteerd"),
    Refused("binary file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01",
            f"Fout: l.csv, regel 3: het bestand bevat NUL-bytes: dit is geen tekstbestand (CSV); "
            f"{SAVE_AS}; niets geïmporteerd"),
    Refused("xlsx workbook", b"PK\x03\x04\x14\x00\x06\x00\x08\x00[Content_Types].xml",
            f"Fout: l.csv: dit is een Excel-werkmap (of een ander zip-bestand), geen "
            f"CSV-bestand; {SAVE_AS} en importeer dat bestand"),
    Refused("xls workbook", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40,
            f"Fout: l.csv: dit is een Excel-werkmap (of een ander zip-bestand), geen "
            f"CSV-bestand; {SAVE_AS} en importeer dat bestand"),
    Refused("huge field", (HEADER + "a@voorbeeld.be;" + "x" * 200_000 + ";Brugge\r\n").encode(),
            "Fout: l.csv, rij 2: een veld is langer dan 131072 tekens: is dit wel een lijst van "
            "abonnees? Niets geïmporteerd"),
    Refused("100,000 columns in the header", (WIDE + "\r\n" + GOOD).encode(),
            "Fout: l.csv, rij 1: 100000 kolommen, een lijst van abonnees heeft er hoogstens 1000: "
            "is dit het juiste bestand? Niets geïmporteerd"),
    Refused("100,000 columns in a row", (HEADER + GOOD + WIDE + "\r\n").encode(),
            "Fout: l.csv, rij 3: 100000 kolommen, een lijst van abonnees heeft er hoogstens 1000: "
            "is dit het juiste bestand? Niets geïmporteerd"),
    Refused("neither UTF-8 nor cp1252", (HEADER + GOOD).encode() + b"x@voorbeeld.be;\x81;\r\n",
            "Fout: l.csv, regel 3: het bestand is geen UTF-8- of Windows-1252-tekst (byte 0x81); "
            f"{SAVE_AS}"),
    Refused("UTF-16 cut in the middle of a character",
            (HEADER + GOOD).encode("utf-16") + b"x",
            f"Fout: l.csv, rij 3: niet te lezen als utf-16 (truncated data); {SAVE_AS}; "
            "niets geïmporteerd"),
    Refused("unterminated quote", (HEADER + 'a@voorbeeld.be;"Jan;Brugge\r\n').encode(),
            "Fout: l.csv, rij 2: geen leesbare CSV (het bestand eindigt midden in een veld (een "
            f"aanhalingsteken zonder sluitteken?)); {SAVE_AS}; niets geïmporteerd"),
    Refused("duplicate header column", b"E-mailadres;Naam;Naam\r\na@voorbeeld.be;A;B\r\n",
            "Fout: l.csv, rij 1: twee kolommen voor Naam ('Naam' en 'Naam'); hou er één"),
    Refused("two e-mail columns", b"E-mail;Email\r\na@voorbeeld.be;b@voorbeeld.be\r\n",
            "Fout: l.csv, rij 1: twee kolommen voor E-mailadres ('E-mail' en 'Email'); hou er één"),
    Refused("geen kolom met e-mailadressen", b"Naam;Gemeente\r\nJan;Brugge\r\n",
            "Fout: l.csv, rij 1: geen kolom met e-mailadressen: gevonden 'Naam', 'Gemeente'; "
            "verwacht een kopregel zoals 'E-mailadres' (en eventueel 'Naam', 'Gemeente', "
            "'Interesses')"),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.id for c in REFUSED])
def test_unusable_file_is_refused_with_its_line(database: Database, capsys, tmp_path: Path,
                                                case: Refused) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(case.content)
    before = snapshot(database, tmp_path)
    code, out, err = run(capsys, "subscribers", "import", str(path))
    assert code == 1
    assert err.splitlines()[0] == case.message
    assert out == "" and "Traceback" not in err
    assert snapshot(database, tmp_path) == before


# ---------------------------------------------------------------- refused rows


@dataclass(frozen=True)
class Rejected:
    id: str
    rows: str  # after the header line
    problem: str  # "l.csv:<line>: <reason>"
    header: str = HEADER


REJECTED = [
    Rejected("ragged row, too few columns", GOOD + "kort@voorbeeld.be\r\n",
             "l.csv, rij 3: 1 kolom(men), de kopregel heeft er 3; er ontbreekt: Naam, Gemeente"),
    Rejected("ragged row, too many columns", GOOD + "a@voorbeeld.be;Jan;Brugge;extra\r\n",
             "l.csv, rij 3: 4 kolommen, de kopregel heeft er 3 (staat er een scheidingsteken in "
             "een naam zonder aanhalingstekens?)"),
    Rejected("name too long", "a@voorbeeld.be;" + "n" * 300 + ";Brugge\r\n",
             "l.csv, rij 2: de naam is langer dan 200 tekens"),
    Rejected("encoded word in the name",
             GOOD + "a@voorbeeld.be;=?utf-8?q?Bcc=3A_victim@example.org?=;Brugge\r\n",
             "l.csv, rij 3: ongeldige naam '=?utf-8?q?Bcc=3A_victim@example.org?=': tekst in de "
             "vorm '=?…?=' is gecodeerde mailtekst en hoort niet in een naam; typ de naam gewoon "
             "uit"),
    Rejected("base64 encoded word split over first and last name",
             "a@voorbeeld.be;=?UTF-8?B?QmNjOiB4QHkuYmU=;?=\r\n",
             "l.csv, rij 2: ongeldige naam '=?UTF-8?B?QmNjOiB4QHkuYmU= ?=': tekst in de vorm "
             "'=?…?=' is gecodeerde mailtekst en hoort niet in een naam; typ de naam gewoon uit",
             header="E-mail;Voornaam;Achternaam\r\n"),
    Rejected("direction override in the name", "a@voorbeeld.be;Jan \u202eeteP;Brugge\r\n",
             "l.csv, rij 2: ongeldige naam 'Jan \\u202eeteP': bevat een teken dat de "
             "schrijfrichting omkeert (U+202E); typ de naam zonder dat teken"),
    Rejected("UTF-8 read as cp1252 before (mojibake)", GOOD + "an@voorbeeld.be;AnaÃ¯s Maes;\r\n",
             f"l.csv, rij 3: naam 'AnaÃ¯s Maes' lijkt verkeerd gecodeerd (bedoeld: 'Anaïs Maes'?); "
             f"{SAVE_AS} en importeer opnieuw"),
    Rejected("a second header (two lists pasted together)",
             GOOD + "\ufeffE-mailadres;Naam;Gemeente\r\nb@voorbeeld.be;B;Damme\r\n",
             "l.csv, rij 3: nog een kopregel midden in het bestand (twee lijsten aan elkaar "
             "geplakt?); verwijder deze rij"),
    Rejected("huge onbekende gemeente", "a@voorbeeld.be;Jan;" + "G" * 5000 + "\r\n",
             "l.csv, rij 2: onbekende gemeente '" + "G" * 59 + "…'; kies uit: Beernem, "),
    Rejected("huge onbekend thema", "a@voorbeeld.be;Jan;Brugge;" + "t" * 5000 + "\r\n",
             "l.csv, rij 2: onbekend thema '" + "t" * 59 + "…'; kies uit: projectoproepen, ",
             header="E-mailadres;Naam;Gemeente;Interesses\r\n"),
    Rejected("address with a line break", '"a@voorbeeld.be\r\nBcc: b@voorbeeld.be";Jan;\r\n',
             "l.csv, rij 2: ongeldig e-mailadres 'a@voorbeeld.be\\r\\nBcc: b@voorbeeld.be': er "
             "moet precies één @ in staan"),
]


@pytest.mark.parametrize("case", REJECTED, ids=[c.id for c in REJECTED])
def test_bad_row_is_named_and_nothing_is_imported(database: Database, capsys, tmp_path: Path,
                                                  case: Rejected) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes((case.header + case.rows).encode("utf-8"))
    before = snapshot(database, tmp_path)
    code, out, err = run(capsys, "subscribers", "import", str(path))
    assert code == 1 and out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == "Fout: l.csv: 1 rij(en) geweigerd, niets geïmporteerd:"
    assert lines[1].startswith(case.problem), lines[1]
    assert len(lines) == 2
    assert snapshot(database, tmp_path) == before


# ---------------------------------------------------------------- imported, with a warning


def test_mixed_utf8_and_cp1252_rows_are_each_read_right_and_named(database: Database, capsys,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(HEADER.encode() + "an@voorbeeld.be;Anaïs Maes;Brugge\r\n".encode()
                     + "noel@voorbeeld.be;Noël D’Hondt;Damme\r\n".encode("cp1252")
                     + b"piet@voorbeeld.be;Piet;Damme\r\n")
    code, out, err = run(capsys, "subscribers", "import", str(path), "--consent-source", "lijst")
    assert code == 0, err
    assert out.splitlines()[:5] == [
        "l.csv: gemengd: UTF-8 en Windows-1252 (per regel gelezen), scheidingsteken puntkomma "
        "(;), kolommen E-mailadres = 'E-mailadres', Naam = 'Naam', Gemeente = 'Gemeente'",
        "  3 rij(en) gelezen: 3 toegevoegd (status: actief), 0 al op de lijst, 0 op de "
        "blokkeerlijst (overgeslagen), 0 dubbel in het bestand (overgeslagen), 0 lege rij(en), "
        "0 geweigerd",
        "  l.csv: het bestand mengt UTF-8 (regels 2) en Windows-1252 (regels 3); elke regel is "
        "in zijn eigen codering gelezen en hieronder vermeld: controleer die regels",
        "  l.csv, regel 2: gelezen als UTF-8 (het bestand mengt UTF-8 en Windows-1252): "
        "controleer de tekst van deze regel",
        "  l.csv, regel 3: gelezen als Windows-1252 (het bestand mengt UTF-8 en Windows-1252): "
        "controleer de tekst van deze regel",
    ]
    stored = names(database)
    assert stored["an@voorbeeld.be"] == "Anaïs Maes"
    assert stored["noel@voorbeeld.be"] == "Noël D’Hondt"


def test_mixed_file_starting_with_a_bom(database: Database, capsys, tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + "an@voorbeeld.be;Anaïs;\r\n".encode()
                     + "el@voorbeeld.be;Élise;\r\n".encode("cp1252"))
    code, out, err = run(capsys, "subscribers", "import", str(path), "--consent-source", "lijst")
    assert code == 0, err
    assert "kolommen E-mailadres = 'E-mailadres'" in out
    assert names(database)["el@voorbeeld.be"] == "Élise"


@pytest.mark.parametrize(("address", "warning"), [
    ("weg@ехample.org",  # Cyrillic е and х: a look-alike of the suppressed weg@example.org
     "l.csv, rij 2: let op: weg@ехample.org lijkt op een adres op de blokkeerlijst (tekens uit een "
     "ander schrift); wie zich uitschreef, mag niet via een gelijkend adres terugkomen: controleer "
     "het adres en verwijder het als het niet klopt"),
    ("iemand@exαmple.org",
     "l.csv, rij 2: let op: 'exαmple' in iemand@exαmple.org mengt letters uit verschillende "
     "schriften (Grieks en Latijns); controleer of het adres echt zo gespeld is"),
    ("bestаand@voorbeeld.be",
     "l.csv, rij 2: let op: bestаand@voorbeeld.be lijkt op bestaand@voorbeeld.be, dat al op de "
     "lijst staat (tekens uit een ander schrift); controleer het adres"),
])
def test_look_alike_address_is_imported_with_a_warning(database: Database, capsys,
                                                      tmp_path: Path, address: str,
                                                      warning: str) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes((HEADER + f"{address};Iemand;\r\n").encode())
    code, out, err = run(capsys, "subscribers", "import", str(path), "--consent-source", "lijst")
    assert code == 0, err
    assert f"  {warning}" in out.splitlines()
    assert address in names(database)


@pytest.mark.parametrize("address", ["jan@müller.de", "info@пример.рф", "a@ελλάδα.gr",
                                     "x@東京abc.jp"])
def test_domain_in_one_script_imports_without_a_word(database: Database, capsys,
                                                     tmp_path: Path, address: str) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes((HEADER + f"{address};Iemand;\r\n").encode())
    code, out, err = run(capsys, "subscribers", "import", str(path), "--consent-source", "lijst")
    assert code == 0, err
    assert "let op" not in out and "1 toegevoegd (status: actief)" in out


def test_hostile_header_reaches_the_terminal_escaped(database: Database, capsys,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    many = ";".join(f"extra{i}" for i in range(50))
    path.write_bytes(f"E-mailadres;\x1b[2J\x1b[31mrood;{many}\r\na@voorbeeld.be;x;\r\n".encode())
    code, out, err = run(capsys, "subscribers", "import", str(path), "--dry-run")
    assert code == 0, err
    assert "\x1b" not in out
    assert out.splitlines()[1] == (
        "  niet gebruikte kolommen: '\\x1b[2J\\x1b[31mrood', "
        + ", ".join(f"extra{i}" for i in range(19)) + ", ... en 31 andere")


def test_line_breaks_and_controls_in_a_quoted_name_are_neutralised(database: Database, capsys,
                                                                   tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes((HEADER + 'a@voorbeeld.be;"Jan\r\nBcc: x@y.be\u2028\u0085\x0b";\r\n')
                     .encode())
    code, out, err = run(capsys, "subscribers", "import", str(path), "--consent-source", "lijst")
    assert code == 0 and "1 toegevoegd (status: actief)" in out, err
    assert names(database)["a@voorbeeld.be"] == "Jan Bcc: x@y.be"
