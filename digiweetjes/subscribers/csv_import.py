"""Importing subscribers from CSV the way Belgian Excel writes it, streamed and all-or-nothing.

Detected, never asked: the encoding (UTF-8 with or without BOM, Windows-1252, UTF-16 "Unicode
text"), the delimiter (``;`` ``,`` or tab) and the columns from Dutch or English headers. Rows
are read once and written in chunks inside the caller's transaction; any rejected row makes the
whole import fail with every problem listed (row number and reason), so the caller's rollback
leaves the list as it was.

Rows are numbered the way Excel shows them: the header is row 1, the first person row 2, and a
blank line is a row too ("rij 3" is row 3 in Excel, also when a cell spans several lines).
Problems of the text itself (a NUL byte, a line in another encoding) name the line ("regel").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.errors import CsvImportError, SubscriberError
from digiweetjes.models import (
    ConsentEvent,
    ConsentEventType,
    Source,
    Subscriber,
    SubscriberStatus,
)
from digiweetjes.subscribers import clean_consent_note, clean_name
from digiweetjes.subscribers.cleaning import repair_mojibake, shown
from digiweetjes.subscribers.consent import CONSENT_SOURCE_DETAIL
from digiweetjes.subscribers.csv_reading import (  # noqa: F401 (detect_* are this module's API)
    SAVE_AS,
    detect_delimiter,
    detect_encoding,
    records,
)
from digiweetjes.subscribers.emails import email_key, normalize_email
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.optin import address_warnings
from digiweetjes.subscribers.places import region, unknown_municipality
from digiweetjes.subscribers.topics import parse_topics

CHUNK_SIZE = 1000
MAX_LISTED_PROBLEMS = 1000
MAX_LISTED_COLUMNS = 20
# What the export puts before a cell Excel would run as a formula (csv_export): taken off again.
_EXPORT_ESCAPED = ("=", "+", "-", "@")

# Folded header (lower case, no accents, letters and digits only) → field.
HEADER_FIELDS: dict[str, str] = {
    **dict.fromkeys(("emailadres", "email", "mail", "mailadres", "emailaddress",
                     "emailadressen", "elektronischpostadres"), "email"),
    **dict.fromkeys(("naam", "name", "volledigenaam", "fullname", "displayname"), "name"),
    **dict.fromkeys(("voornaam", "firstname", "givenname"), "first_name"),
    **dict.fromkeys(("achternaam", "familienaam", "lastname", "surname", "familyname"),
                    "last_name"),
    **dict.fromkeys(("gemeente", "municipality", "woonplaats", "stad", "city"),
                    "municipality"),
    **dict.fromkeys(("interesses", "themas", "thema", "topics", "onderwerpen", "interests"),
                    "topics"),
}
FIELD_LABELS = {"email": "E-mailadres", "name": "Naam", "first_name": "Voornaam",
                "last_name": "Achternaam", "municipality": "Gemeente", "topics": "Interesses"}
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def fold_header(text: str) -> str:
    """``E-mailadres`` → ``emailadres``; ``Thema's`` → ``themas``."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\ufeff", "").strip().lower())
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", ascii_only)


@dataclass
class ImportReport:
    """What an import did, or would do (``dry_run``)."""

    file: str
    encoding: str = ""
    delimiter: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    has_header: bool = True
    dry_run: bool = False
    rows: int = 0
    added: int = 0
    status: str = SubscriberStatus.PENDING
    already_on_list: int = 0
    suppressed: int = 0
    duplicates: int = 0
    empty_lines: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def reject(self, row: int, reason: str) -> None:
        self.rejected += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(f"{self.file}, rij {row}: {reason}")

    def note(self, row: int, text: str, *, unit: str = "rij") -> None:
        """A remark on row ``row`` (``unit="regel"``: a line of the text file)."""
        if len(self.notes) < MAX_LISTED_PROBLEMS:
            self.notes.append(f"{self.file}, {unit} {row}: {text}")

    def problem_lines(self) -> list[str]:
        more = self.rejected - len(self.problems)
        return self.problems + ([f"... en nog {more} geweigerde rij(en)"] if more > 0 else [])


def _shown_header(cell: str) -> str:
    text = cell.strip()
    return text if text.isprintable() and len(text) <= 60 else shown(text)


def _map_header(cells: list[str], report: ImportReport) -> dict[str, int] | None:
    mapping: dict[str, int] = {}
    ignored_more = 0
    for index, cell in enumerate(cells):
        name = HEADER_FIELDS.get(fold_header(cell))
        if name is None:
            if cell.strip() and len(report.ignored_columns) < MAX_LISTED_COLUMNS:
                report.ignored_columns.append(_shown_header(cell))
            elif cell.strip():
                ignored_more += 1
            continue
        if name in mapping:
            raise CsvImportError([f"{report.file}, rij 1: twee kolommen voor "
                                  f"{FIELD_LABELS[name]} ({shown(cells[mapping[name]].strip())} en "
                                  f"{shown(cell.strip())}); hou er één"])
        mapping[name] = index
    if ignored_more:
        report.ignored_columns.append(f"... en {ignored_more} andere")
    if "email" in mapping:
        report.columns = {FIELD_LABELS[k]: cells[i].strip() for k, i in mapping.items()}
        return mapping
    if any("@" in cell for cell in cells):
        return None  # no header row: the first row is data
    found = ", ".join(shown(c.strip()) for c in cells if c.strip()) or "niets"
    raise CsvImportError([
        f"{report.file}, rij 1: geen kolom met e-mailadressen: gevonden {found}; verwacht een "
        "kopregel zoals 'E-mailadres' (en eventueel 'Naam', 'Gemeente', 'Interesses')"])


# ---------------------------------------------------------------- rows


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    key: str
    email_hash: str
    name: str | None
    municipality: str | None
    subregion: str | None
    topics: list[str]


def _cell(record: list[str], mapping: dict[str, int], name: str) -> str:
    index = mapping.get(name)
    if index is None or index >= len(record):
        return ""
    value = record[index].strip()
    if value[:1] == "'" and value[1:2] in _EXPORT_ESCAPED and len(value) > 1:
        return value[1:]  # our own export's protection against formulas: the value is behind it
    return value


def import_csv(session: Session, clock: Clock, settings: Settings, path: Path, *,
               consent_source: str | None = None, dry_run: bool = False,
               skip_invalid: bool = False, chunk_size: int = CHUNK_SIZE) -> ImportReport:
    """Import ``path`` into the list in the caller's transaction; see the module docstring.

    New people become ``active`` with ``consent_source`` (how consent was obtained), else
    ``pending`` (the caller then mails confirmations: ``send_pending_confirmations``). Addresses
    already on the list or suppressed are skipped and counted. With rejected rows: CsvImportError
    (with ``report``), unless ``skip_invalid``. ``dry_run`` writes nothing.
    """
    path = Path(path)
    report = ImportReport(file=path.name, dry_run=dry_run)
    note = clean_consent_note(consent_source)
    status = SubscriberStatus.ACTIVE if note else SubscriberStatus.PENDING
    report.status = status
    report.encoding = detect_encoding(path)
    the_region = region(settings)
    hasher = Hasher(settings)
    now = clock.now()
    detail_tail = f"{CONSENT_SOURCE_DETAIL}{note}" if note else "bevestiging gevraagd"
    seen: dict[str, int] = {}
    # Spelling as typed → (canonical, subregion): a handful of spellings, looked up 100k times.
    municipalities: dict[str, tuple[str, str]] = {}
    chunk: list[_Row] = []
    mapping: dict[str, int] | None = None
    header: list[str] = []

    def flush() -> None:
        if not chunk:
            return
        raw = _Raw(session)
        suppressed = {h for (h,) in raw.select_in(
            "email_hash", "suppressions", "email_hash", [row.email_hash for row in chunk])}
        existing = {k for (k,) in raw.select_in(
            "email_key", "subscribers", "email_key", [row.key for row in chunk])}
        new_rows = []
        for row in chunk:
            if row.email_hash in suppressed:
                report.suppressed += 1
                report.note(row.line, f"{row.email} staat op de blokkeerlijst, overgeslagen")
            elif row.key in existing:
                report.already_on_list += 1
            else:
                new_rows.append(row)
        report.added += len(new_rows)
        if new_rows and not dry_run and (skip_invalid or report.rejected == 0):
            _insert(session, new_rows, status, note, now, report.file, detail_tail)
        chunk.clear()

    for line, record in records(path, report.encoding, report):
        if not "".join(record).strip():
            report.empty_lines += 1
            continue
        if mapping is None and not header:
            header = record
            mapping = _map_header(record, report)
            if mapping is not None:
                continue
            report.has_header = False
            mapping = {"email": 0, "name": 1, "municipality": 2}
            header = ["E-mailadres", "Naam", "Gemeente"][:max(len(record), 1)]
        report.rows += 1
        assert mapping is not None
        if len(record) < len(header) and report.has_header:
            missing = [header[i].strip() for i in range(len(record), len(header))
                       if i in mapping.values()]
            if missing:
                report.reject(line, f"{len(record)} kolom(men), de kopregel heeft er "
                                    f"{len(header)}; er ontbreekt: {', '.join(missing)}")
                continue
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            report.reject(line, f"{len(record)} kolommen, de kopregel heeft er {len(header)} "
                                "(staat er een scheidingsteken in een naam zonder "
                                "aanhalingstekens?)")
            continue
        raw_email = _cell(record, mapping, "email")
        if not raw_email:
            report.reject(line, "geen e-mailadres")
            continue
        if report.has_header and HEADER_FIELDS.get(fold_header(raw_email)) == "email":
            report.reject(line, "nog een kopregel midden in het bestand (twee lijsten aan elkaar "
                                "geplakt?); verwijder deze rij")
            continue
        try:
            normalized = normalize_email(raw_email)
            name = _name(record, mapping)
            if name and (intended := repair_mojibake(name)):
                raise SubscriberError(
                    f"naam {shown(name)} lijkt verkeerd gecodeerd (bedoeld: {shown(intended)}?); "
                    f"{SAVE_AS} en importeer opnieuw")
            municipality_raw = _cell(record, mapping, "municipality")
            municipality = subregion = None
            if municipality_raw:
                known = municipalities.get(municipality_raw)
                if known is None:
                    municipality = the_region.canonical_municipality(municipality_raw)
                    if municipality is None:
                        raise SubscriberError(unknown_municipality(
                            municipality_raw, the_region.municipalities, empty_allowed=True))
                    known = (municipality, the_region.subregion_of(municipality).id)
                    municipalities[municipality_raw] = known
                municipality, subregion = known
            topics = parse_topics(_cell(record, mapping, "topics"))
        except SubscriberError as exc:
            report.reject(line, str(exc))
            continue
        key = email_key(normalized)
        first_line = seen.get(key)
        if first_line is not None:
            report.duplicates += 1
            report.note(line, f"{normalized} staat al op rij {first_line}, overgeslagen")
            continue
        seen[key] = line
        for warning in address_warnings(session, hasher, normalized):
            report.note(line, f"let op: {warning}")
        chunk.append(_Row(line, normalized, key, hasher.email(key), name, municipality,
                          subregion, topics))
        if len(chunk) >= chunk_size:
            flush()
    flush()
    if header == [] and mapping is None:
        raise CsvImportError([f"{report.file}: het bestand is leeg"])
    if report.rejected and not skip_invalid:
        raise CsvImportError([
            f"{report.file}: {report.rejected} rij(en) geweigerd, niets geïmporteerd:",
            *report.problem_lines()], report=report)
    return report


def _name(record: list[str], mapping: dict[str, int]) -> str | None:
    name = _cell(record, mapping, "name")
    if not name:
        name = " ".join(part for part in (_cell(record, mapping, "first_name"),
                                          _cell(record, mapping, "last_name")) if part)
    return clean_name(name)


_SUBSCRIBER_COLUMNS = ("email", "email_key", "email_hash", "name", "municipality", "subregion",
                       "topics", "language", "status", "source", "consent_note", "created_at",
                       "updated_at", "confirmed_at")
_EVENT_COLUMNS = ("subscriber_id", "email", "email_hash", "event", "occurred_at", "source",
                  "detail")


class _Raw:
    """Driver-level executemany for the import's hot path.

    SQLAlchemy's per-row parameter processing costs more than SQLite's own inserts at 100k
    rows. Values are bound with the columns' own bind processors (``bind``), so what is stored
    is identical to what the ORM would store.
    """

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.marker = "?" if self.dialect.paramstyle == "qmark" else "%s"

    def binder(self, table: Any, column: str) -> Any:
        """The column's bind processor (identity when it has none)."""
        processor = table.c[column].type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return processor if processor is not None else (lambda value: value)

    def bind_time(self, table: Any, column: str, moment: datetime) -> Any:
        """A timestamp bound once for every row of a chunk."""
        return self.binder(table, column)(moment)

    def insert_many(self, table: Any, columns: tuple[str, ...],
                    rows: list[tuple[Any, ...]]) -> None:
        """Insert rows whose values are already bound."""
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join([self.marker] * len(columns))})")
        self.connection.exec_driver_sql(sql, rows)

    def select_in(self, columns: str, table: str, column: str,
                  values: list[str]) -> list[tuple[Any, ...]]:
        sql = (f"SELECT {columns} FROM {table} WHERE {column} IN "
               f"({', '.join([self.marker] * len(values))})")
        return [tuple(row) for row in self.connection.exec_driver_sql(sql, tuple(values))]


def _insert(session: Session, rows: list[_Row], status: SubscriberStatus, note: str | None,
            now: Any, file_name: str, detail_tail: str) -> None:
    raw = _Raw(session)
    subscribers, events = Subscriber.__table__, ConsentEvent.__table__
    when = raw.bind_time(subscribers, "created_at", now)
    confirmed = when if status is SubscriberStatus.ACTIVE else None
    topics = raw.binder(subscribers, "topics")
    constant = ("nl-BE", str(status), str(Source.IMPORT), note, when, when, confirmed)
    raw.insert_many(subscribers, _SUBSCRIBER_COLUMNS, [
        (row.email, row.key, row.email_hash, row.name, row.municipality, row.subregion,
         topics(row.topics), *constant)
        for row in rows])
    ids = dict(raw.select_in("email_key, id", "subscribers", "email_key",
                             [row.key for row in rows]))
    event_when = raw.bind_time(events, "occurred_at", now)
    imported, source = str(ConsentEventType.IMPORTED), str(Source.IMPORT)
    raw.insert_many(events, _EVENT_COLUMNS, [
        (ids[row.key], row.email, row.email_hash, imported, event_when, source,
         f"{file_name} rij {row.line}; {detail_tail}")
        for row in rows])
