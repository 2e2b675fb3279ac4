"""What ``digiweetjes subscribers import`` prints: the import report as lines of Dutch text.

The same numbers and the same problem lines as the import page (``web.admin.subscribers.report``).
"""

from __future__ import annotations

from digiweetjes.subscribers.csv_import import ImportReport
from digiweetjes.subscribers.csv_reading import DELIMITER_NAMES, ENCODING_NAMES
from digiweetjes.subscribers.labels import label


def import_report_lines(report: ImportReport, file_name: str, *, dry_run: bool) -> list[str]:
    """The file as it was read, the counts, the remarks and the refused rows."""
    columns = ", ".join(f"{field} = '{header}'" for field, header in report.columns.items())
    lines = [
        f"{file_name}: {ENCODING_NAMES.get(report.encoding, report.encoding)}, "
        f"scheidingsteken {DELIMITER_NAMES.get(report.delimiter, report.delimiter)}, "
        f"kolommen {columns or 'geen (geen kopregel)'}"]
    if report.ignored_columns:
        lines.append(f"  niet gebruikte kolommen: {', '.join(report.ignored_columns)}")
    verb = "zou(den) toegevoegd worden" if dry_run else "toegevoegd"
    lines.append(
        f"  {report.rows} rij(en) gelezen: {report.added} {verb} (status: "
        f"{label('status', report.status)}), {report.already_on_list} al op de lijst, "
        f"{report.suppressed} op de blokkeerlijst (overgeslagen), {report.duplicates} dubbel "
        f"in het bestand (overgeslagen), {report.empty_lines} lege rij(en), "
        f"{report.rejected} geweigerd")
    lines += [f"  {line}" for line in report.notes]
    lines += [f"  geweigerd: {line}" for line in report.problem_lines()]
    if dry_run:
        lines.append("Proefdraai: er is niets gewijzigd.")
    return lines
