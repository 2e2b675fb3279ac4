"""Reading an import file as text: its encoding, its delimiter and its records, line by line.

Whatever cannot be a subscriber list (a workbook, a binary file, NUL bytes, a field or a row
of absurd size, bytes of no known encoding) is refused here, naming the line of the text file
("regel"); a record is named by its row as Excel numbers it ("rij": the header is row 1).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from digiweetjes.errors import CsvImportError

if TYPE_CHECKING:
    from digiweetjes.subscribers.csv_import import ImportReport

DELIMITERS = (";", ",", "\t")
#: Far more than any list has; a file with more columns is not a subscriber list.
MAX_COLUMNS = 1000
#: A file with rows in UTF-8 and rows in Windows-1252: each line is read in its own encoding.
MIXED = "utf-8+cp1252"
#: The encodings and delimiters as an admin reads them (the import pages and the CLI).
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 met BOM",
    "cp1252": "Windows-1252",
    "utf-16": "UTF-16 (Unicode-tekst)",
    MIXED: "gemengd: UTF-8 en Windows-1252 (per regel gelezen)",
}
DELIMITER_NAMES = {";": "puntkomma (;)", ",": "komma (,)", "\t": "tab"}
#: What to do with a file that is not a plain CSV export (part of Dutch messages).
SAVE_AS = "bewaar de lijst in Excel als 'CSV UTF-8 (gescheiden door lijstscheidingstekens)'"
# Zip (.xlsx, .ods) and OLE (.xls) files: a workbook chosen instead of its CSV export.
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_UNDEFINED_CP1252 = frozenset(bytes([b]) for b in (0x81, 0x8D, 0x8F, 0x90, 0x9D))
_LONE_CR = re.compile(rb"(?<=\r)(?!\n|$)")
_LONE_CR_BYTE = re.compile(rb"\r(?!\n)")


def detect_encoding(path: Path) -> str:
    """The encoding of ``path``: BOMs first, then UTF-8, else Windows-1252, else both (MIXED).

    A file holding rows of each (two lists pasted together) is ``MIXED``: each line is then read
    in its own encoding, with a warning per line. Anything that is not text is refused here.
    """
    name = path.name
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return "utf-16"
            if head.startswith(_WORKBOOK_MAGIC):
                raise CsvImportError([
                    f"{name}: dit is een Excel-werkmap (of een ander zip-bestand), geen "
                    f"CSV-bestand; {SAVE_AS} en importeer dat bestand"])
            bom = head.startswith(codecs.BOM_UTF8)
            handle.seek(0)
            if _is_utf8(handle, name):
                return "utf-8-sig" if bom else "utf-8"
            handle.seek(0)
            return _mixed_or_cp1252(handle, name)
    except OSError as exc:
        raise CsvImportError([f"{path}: het bestand kan niet gelezen worden: "
                              f"{exc.strerror}"]) from exc


def _is_utf8(handle: BinaryIO, name: str) -> bool:
    """Whether the whole file is UTF-8; refuses a file with NUL bytes (not text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    valid = True
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        nul = chunk.find(b"\x00")
        if nul >= 0:
            line = lines + _line_breaks(chunk[:nul]) + 1
            raise CsvImportError([
                f"{name}, regel {line}: het bestand bevat NUL-bytes: dit is geen tekstbestand "
                f"(CSV); {SAVE_AS}; niets geïmporteerd"])
        lines += _line_breaks(chunk)
        if valid:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                valid = False  # keep reading: a NUL further on is still refused as such
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    return valid


def _line_breaks(data: bytes) -> int:
    """How many lines end in ``data`` (\\r\\n, \\n or a lone \\r, as ``open`` counts them)."""
    return data.count(b"\n") + len(_LONE_CR_BYTE.findall(data))


def _mixed_or_cp1252(handle: BinaryIO, name: str) -> str:
    utf8_lines = 0
    for number, raw in enumerate(_raw_lines(handle), 1):
        encoding = _line_encoding(raw)
        if encoding == "utf-8" and not raw.isascii():
            utf8_lines += 1
        elif encoding is None:
            bad = next(b for b in raw if bytes([b]) in _UNDEFINED_CP1252)
            raise CsvImportError([
                f"{name}, regel {number}: het bestand is geen UTF-8- of Windows-1252-tekst "
                f"(byte 0x{bad:02x}); {SAVE_AS}"])
    return MIXED if utf8_lines else "cp1252"


def _raw_lines(handle: BinaryIO) -> Iterator[bytes]:
    """Physical lines with their endings (\\r\\n, \\n or a lone \\r), as ``open`` splits."""
    for raw in handle:
        yield from _LONE_CR.split(raw)


def _line_encoding(raw: bytes) -> str | None:
    """``utf-8`` or ``cp1252``: how one line of a file that is not all UTF-8 reads; else None."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return "cp1252"


def detect_delimiter(first_line: str) -> str:
    """The delimiter used most in the header line (``;`` when there is a tie or none)."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ";"


def records(path: Path, encoding: str,
            report: ImportReport) -> Iterator[tuple[int, list[str]]]:
    """The records of the file with their row number as Excel counts rows (the header is row
    1, a blank line is a row, a cell over several lines stays in one row); the delimiter set on
    ``report``."""
    with _text_lines(path, encoding, report) as lines:
        try:
            first = next(lines, "")
        except UnicodeDecodeError as exc:
            raise _undecodable(report, 1, exc) from exc
        report.delimiter = detect_delimiter(first)
        reader = csv.reader(itertools.chain([first], lines), delimiter=report.delimiter,
                            strict=True)
        for row in itertools.count(1):
            start = row
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise CsvImportError([
                        f"{report.file}, rij {start}: een veld is langer dan "
                        f"{csv.field_size_limit()} tekens: is dit wel een lijst van abonnees? "
                        "Niets geïmporteerd"]) from exc
                raise CsvImportError([f"{report.file}, rij {start}: geen leesbare CSV "
                                      f"({_csv_reason(exc)}); {SAVE_AS}; niets geïmporteerd"]
                                     ) from exc
            except UnicodeDecodeError as exc:
                raise _undecodable(report, start, exc) from exc
            if len(record) > MAX_COLUMNS:
                raise CsvImportError([
                    f"{report.file}, rij {start}: {len(record)} kolommen, een lijst van abonnees "
                    f"heeft er hoogstens {MAX_COLUMNS}: is dit het juiste bestand? "
                    "Niets geïmporteerd"])
            yield start, record


def _undecodable(report: ImportReport, line: int, exc: UnicodeDecodeError) -> CsvImportError:
    return CsvImportError([f"{report.file}, rij {line}: niet te lezen als {report.encoding} "
                           f"({exc.reason}); {SAVE_AS}; niets geïmporteerd"])


@contextmanager
def _text_lines(path: Path, encoding: str, report: ImportReport) -> Iterator[Iterator[str]]:
    """The file's lines as text; a MIXED file line by line, each in its own encoding."""
    if encoding != MIXED:
        with path.open(encoding=encoding, newline="") as handle:
            yield iter(handle)
        return
    with path.open("rb") as handle:
        yield _mixed_lines(handle, report)


def _mixed_lines(handle: BinaryIO, report: ImportReport) -> Iterator[str]:
    labels = {"utf-8": "UTF-8", "cp1252": "Windows-1252"}
    lines: dict[str, list[int]] = {"utf-8": [], "cp1252": []}
    for number, raw in enumerate(_raw_lines(handle), 1):
        encoding = _line_encoding(raw) or "cp1252"  # detect_encoding refused undecodable lines
        text = raw.decode(encoding)
        if number == 1:
            text = text.removeprefix("\ufeff")
        if not raw.isascii():
            lines[encoding].append(number)
            report.note(number, f"gelezen als {labels[encoding]} (het bestand mengt UTF-8 en "
                                "Windows-1252): controleer de tekst van deze regel",
                        unit="regel")
        yield text
    if lines["utf-8"] and lines["cp1252"]:
        report.notes.insert(0, (
            f"{report.file}: het bestand mengt UTF-8 (regels {_numbers(lines['utf-8'])}) en "
            f"Windows-1252 (regels {_numbers(lines['cp1252'])}); elke regel is in zijn eigen "
            "codering gelezen en hieronder vermeld: controleer die regels"))


def _numbers(numbers: list[int], limit: int = 10) -> str:
    more = len(numbers) - limit
    return ", ".join(map(str, numbers[:limit])) + (f" en {more} andere" if more > 0 else "")


def _csv_reason(exc: csv.Error) -> str:
    """The csv module's reason in Dutch where we know it (its text otherwise, as data)."""
    text = str(exc)
    if "unexpected end of data" in text:
        return "het bestand eindigt midden in een veld (een aanhalingsteken zonder sluitteken?)"
    if "new-line character seen in unquoted field" in text:
        return "een regeleinde midden in een veld zonder aanhalingstekens"
    return text
