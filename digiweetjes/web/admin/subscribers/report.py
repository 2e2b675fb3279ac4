"""An import's report as the import pages show it: the CLI's numbers and lines, in Dutch words.

The problem and note lines are the domain's own (``file:line: reason``), shown as they are,
so the web page and ``digiweetjes subscribers import`` name the same lines the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from digiweetjes.subscribers.csv_import import ImportReport
from digiweetjes.subscribers.csv_reading import DELIMITER_NAMES as DELIMITERS
from digiweetjes.subscribers.csv_reading import ENCODING_NAMES as ENCODINGS
from digiweetjes.subscribers.labels import label


@dataclass(frozen=True)
class ReportView:
    """What the report page shows."""

    file: str
    encoding: str
    delimiter: str
    columns: list[tuple[str, str]]
    ignored_columns: list[str]
    counts: list[tuple[str, int]]
    added: int
    status: str
    rejected: int
    notes: list[str]
    problems: list[str]


def report_view(report: ImportReport) -> ReportView:
    """The Dutch view of ``report`` (from a dry run, an import, or a refused import)."""
    verb = "zou toegevoegd worden" if report.dry_run else "toegevoegd"
    counts = [
        ("Rijen gelezen", report.rows),
        (f"Nieuw, {verb} (status: {label('status', report.status)})", report.added),
        ("Al op de lijst (overgeslagen)", report.already_on_list),
        ("Op de blokkeerlijst (overgeslagen)", report.suppressed),
        ("Dubbel in het bestand (overgeslagen)", report.duplicates),
        ("Lege rijen", report.empty_lines),
        ("Geweigerd", report.rejected),
    ]
    return ReportView(
        file=report.file,
        encoding=ENCODINGS.get(report.encoding, report.encoding),
        delimiter=DELIMITERS.get(report.delimiter, report.delimiter),
        columns=list(report.columns.items()),
        ignored_columns=list(report.ignored_columns),
        counts=counts,
        added=report.added,
        status=label("status", report.status),
        rejected=report.rejected,
        notes=list(report.notes),
        problems=report.problem_lines(),
    )
