"""The subscriber pages under ``/beheer/abonnees``, for admins only (editors get 403).

- ``browse``: the list (search, filters, 50 a page) and a person's page;
- ``changes``: add, unsubscribe, erase (after typing the address over);
- ``transfer``: CSV import (dry run, then import of the same kept file), CSV export for Excel,
  one person's GDPR export;
- ``uploads``: where an import file waits between its dry run and its import (30 minutes);
- ``forms``, ``report``, ``common``: reading forms, the import report, what the pages share
  (the Dutch words for stored values are ``digiweetjes.subscribers.labels``, shared with the
  CLI).

Every route calls the subscriber domain functions the CLI calls, one transaction per action,
with its audit row (a person named by row id, never by address).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from digiweetjes.web.admin.subscribers import browse, changes, transfer
from digiweetjes.web.admin.subscribers.common import (
    ADD_PATH,
    EXPORT_PATH,
    IMPORT_PATH,
    LIST_PATH,
)

PAGE = ["GET", "HEAD"]
POST = ["POST"]
PERSON = LIST_PATH + "/{subscriber_id:int}"


def routes() -> list[BaseRoute]:
    """The subscriber pages' routes."""
    return [
        Route(LIST_PATH, browse.subscriber_list, methods=PAGE),
        Route(ADD_PATH, changes.add_form, methods=PAGE),
        Route(ADD_PATH, changes.add_post, methods=POST),
        Route(IMPORT_PATH, transfer.import_form, methods=PAGE),
        Route(IMPORT_PATH, transfer.import_check, methods=POST),
        Route(IMPORT_PATH + "/{upload_id:str}", transfer.import_run, methods=POST),
        Route(EXPORT_PATH, transfer.export_list, methods=POST),
        Route(PERSON, browse.person, methods=PAGE),
        Route(PERSON + "/uitschrijven", changes.unsubscribe_post, methods=POST),
        Route(PERSON + "/wissen", changes.erase_form, methods=PAGE),
        Route(PERSON + "/wissen", changes.erase_post, methods=POST),
        Route(PERSON + "/gegevens", transfer.export_one, methods=POST),
    ]
