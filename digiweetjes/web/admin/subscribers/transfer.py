"""Files in and out of the list: the CSV import (dry run first), the CSV export for Excel, and
one person's GDPR export (JSON), each the CLI's own domain call and each audited.

The import is two steps, as ``subscribers import --dry-run`` then ``subscribers import``: the
upload is checked with ``import_csv(dry_run=True)`` and kept (``uploads.UploadStore``, 30
minutes); "Importeren" imports that same kept file, with the consent source given at upload,
all or nothing. Confirmation mails for a pending import go out after its commit, as in the CLI.
"""

from __future__ import annotations

import io
import json
import tempfile
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from digiweetjes.errors import CsvImportError, ProviderError
from digiweetjes.models import SubscriberStatus
from digiweetjes.subscribers import export_person, send_pending_confirmations, subscriber_by_id
from digiweetjes.subscribers.csv_export import export_csv
from digiweetjes.subscribers.csv_import import ImportReport, import_csv
from digiweetjes.web.admin.auth import AdminUser, Role, admin_error, admin_page, audit, requires
from digiweetjes.web.admin.subscribers.common import BAD_FILTER, ERASED, IMPORT_PATH, NOT_FOUND
from digiweetjes.web.admin.subscribers.forms import BadFilter, read_consent_source, read_filters
from digiweetjes.web.admin.subscribers.report import report_view
from digiweetjes.web.admin.subscribers.uploads import DIRECTORY, Upload, UploadStore
from digiweetjes.web.errors import ErrorText
from digiweetjes.web.public.pages import NO_STORE, context_of, in_transaction

FILE_FIELD = "bestand"
CONSENT_FIELD = "toestemming"
GONE = ErrorText("Dit bestand is niet meer beschikbaar", (
    "Een gecontroleerd bestand blijft 30 minuten klaarstaan, en alleen voor wie het opgeladen "
    "heeft. Er is niets geïmporteerd.",
    "Laad het bestand opnieuw op: je krijgt dan eerst weer de controle te zien."))
MAIL_STOPPED = ("Het versturen van de bevestigingsmails is gestopt; de import zelf is wel "
                "gebeurd. Verstuur de rest met: digiweetjes subscribers send-confirmations")


def _store(request: Request) -> UploadStore:
    context = context_of(request)
    return UploadStore(context.settings.root / DIRECTORY, context.clock)


def _import_page(request: Request, user: AdminUser, *, status: int = 200,
                 errors: list[str] | None = None, consent: str = "") -> Response:
    return admin_page(request, user, "abonnees/importeren.html.j2", status=status,
                      file_field=FILE_FIELD, consent_field=CONSENT_FIELD, consent=consent,
                      problems=errors or [],
                      error_list=[("veld-bestand", e) for e in (errors or [])][:1])


@requires(Role.ADMIN)
async def import_form(request: Request, user: AdminUser) -> Response:
    """Choose a CSV file and, if these people consented elsewhere, where."""
    return _import_page(request, user)


@requires(Role.ADMIN)
async def import_check(request: Request, user: AdminUser) -> Response:
    """Keep the upload and show the dry run's report; nothing is changed yet."""
    context = context_of(request)
    try:
        async with request.form(max_files=1, max_fields=10) as form:
            consent, problem = read_consent_source(form.get(CONSENT_FIELD))
            shown = consent or ""
            file = form.get(FILE_FIELD)
            if problem:
                return _import_page(request, user, status=400, errors=[problem])
            if not isinstance(file, UploadFile) or not file.filename:
                return _import_page(request, user, status=400, consent=shown,
                                    errors=["Kies het CSV-bestand dat je wilt importeren."])
            upload = await run_in_threadpool(
                _store(request).save, file.file, file_name=file.filename,
                consent_source=consent, user_id=user.id)
    except ValueError:  # a form that is not multipart, or a part that cannot be parsed
        return _import_page(request, user, status=400,
                            errors=["Dit formulier kon niet gelezen worden. Kies het bestand "
                                    "opnieuw."])
    if upload.size == 0:
        _store(request).discard(upload.id)
        return _import_page(request, user, status=400, consent=shown,
                            errors=[f"{upload.file_name} is leeg. Kies het juiste bestand."])

    def check(session: Session) -> ImportReport:
        return import_csv(session, context.clock, context.settings, upload.path,
                          consent_source=upload.consent_source, dry_run=True)

    try:
        report = await in_transaction(request, check, write=False)
    except CsvImportError as exc:
        _store(request).discard(upload.id)
        return _refused(request, user, upload, exc)
    return admin_page(request, user, "abonnees/import-rapport.html.j2", upload=upload,
                      report=report_view(report), dry_run=True,
                      action=f"{IMPORT_PATH}/{upload.id}")


def _refused(request: Request, user: AdminUser, upload: Upload, exc: CsvImportError) -> Response:
    """Rejected rows (with the report) or a file that is not a list: 400, nothing imported."""
    if exc.report is None:
        return _import_page(request, user, status=400, errors=exc.problems,
                            consent=upload.consent_source or "")
    return admin_page(request, user, "abonnees/import-rapport.html.j2", status=400,
                      upload=upload, report=report_view(exc.report), dry_run=True, action=None)


@requires(Role.ADMIN)
async def import_run(request: Request, user: AdminUser) -> Response:
    """Import exactly the checked upload, all or nothing; then mail the confirmations."""
    context = context_of(request)
    store = _store(request)
    upload = store.get(request.path_params["upload_id"], user_id=user.id)
    if upload is None:
        return admin_error(request, user, 410, GONE)

    def run(session: Session) -> ImportReport:
        report = import_csv(session, context.clock, context.settings, upload.path,
                            consent_source=upload.consent_source)
        audit(session, context.clock, user, "subscribers.import",
              f"{upload.file_name} (sha256 {upload.sha256[:16]}): {report.added} toegevoegd "
              f"als {report.status}, {report.rows} rijen")
        return report

    try:
        report = await in_transaction(request, run)
    except CsvImportError as exc:
        store.discard(upload.id)
        return _refused(request, user, upload, exc)
    store.discard(upload.id)
    sent, problems = 0, []
    if report.status == SubscriberStatus.PENDING and report.added:
        sent, problems = await _send_confirmations(request)
    return admin_page(request, user, "abonnees/import-rapport.html.j2", upload=upload,
                      report=report_view(report), dry_run=False, action=None,
                      confirmations=sent, mail_problems=problems)


async def _send_confirmations(request: Request) -> tuple[int, list[str]]:
    context = context_of(request)
    problems: list[str] = []

    def send(session: Session) -> int:
        return send_pending_confirmations(session, context.provider, context.clock,
                                          context.settings, pause=time.sleep,
                                          problems=problems)

    try:
        sent = await in_transaction(request, send)
    except ProviderError:
        return 0, [*problems, MAIL_STOPPED]
    if any(line.startswith("gestopt") for line in problems):
        problems.append(MAIL_STOPPED)
    return sent, problems


@requires(Role.ADMIN)
async def export_list(request: Request, user: AdminUser) -> Response:
    """``subscribers export``: a CSV for Excel (UTF-8 with BOM, ';') of the filtered list."""
    context = context_of(request)
    try:
        filters = read_filters(await request.form(), context.settings)
    except BadFilter:
        return admin_error(request, user, 400, BAD_FILTER)
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 (closed by stream)

    def write(session: Session) -> int:
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
        count = export_csv(session, text, status=filters.status or None,
                           municipality=filters.municipality or None,
                           timezone=context.settings.timezone)
        text.detach()  # flushes; the spool stays open for the answer
        shown = ", ".join(f"{k}={v}" for k, v in (("status", filters.status),
                                                  ("gemeente", filters.municipality)) if v)
        audit(session, context.clock, user, "subscribers.export",
              f"{count} abonnees ({shown or 'alle'})")
        return count

    try:
        await in_transaction(request, write)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    day = context.clock.now().astimezone(ZoneInfo(context.settings.timezone)).date().isoformat()
    name = f"digiweetjes-abonnees-{day}.csv"
    return StreamingResponse(_chunks(spool), media_type="text/csv; charset=utf-8",
                             headers={**NO_STORE,
                                      "content-disposition": f'attachment; filename="{name}"'})


def _chunks(spool: Any) -> Iterator[bytes]:
    try:
        yield from iter(lambda: spool.read(1 << 16), b"")
    finally:
        spool.close()


@requires(Role.ADMIN)
async def export_one(request: Request, user: AdminUser) -> Response:
    """Right of access (``export-person``): everything held on one person, as JSON."""
    context = context_of(request)
    subscriber_id: int = request.path_params["subscriber_id"]

    def read(session: Session) -> tuple[str, dict[str, Any] | None]:
        subscriber = subscriber_by_id(session, subscriber_id)
        if subscriber is None:
            return "missing", None
        if subscriber.email is None:
            return "erased", None
        data = export_person(session, context.settings, subscriber.email)
        audit(session, context.clock, user, "subscriber.export", f"abonnee #{subscriber_id}")
        return "done", data

    outcome, data = await in_transaction(request, read)
    if outcome == "missing":
        return admin_error(request, user, 404, NOT_FOUND)
    if outcome == "erased" or data is None:
        return admin_error(request, user, 400, ERASED)
    body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    name = f"gegevens-abonnee-{subscriber_id}.json"
    return Response(body.encode("utf-8"), media_type="application/json; charset=utf-8",
                    headers={**NO_STORE, "content-disposition": f'attachment; filename="{name}"'})
