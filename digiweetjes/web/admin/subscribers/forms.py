"""Reading the subscriber pages' forms and filters, each problem said in Dutch for its field.

The domain functions check everything again when called (``add_subscriber``, ``list_subscribers``);
checking here first is only to tell an admin, per field, what to change. The fields the add form
shares with the sign-up form are read by the public form's readers (``web.public.forms``), in
the admin's wording; the consent source is the admin's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData, QueryParams

from digiweetjes.config import Settings
from digiweetjes.errors import SubscriberError
from digiweetjes.models import SubscriberStatus
from digiweetjes.subscribers.cleaning import CONSENT_NOTE_MAX, NAME_MAX, clean_consent_note
from digiweetjes.subscribers.places import municipality_and_subregion
from digiweetjes.web.public.forms import (
    FormResult,
    email_field,
    has_control,
    municipality_field,
    name_field,
    text_field,
    topics_field,
)

SEARCH_MAX = 254
PAGE_SIZE = 50
#: Past this page nobody is browsing; a bigger number is a typo or a probe.
PAGE_MAX = 100_000

#: The admin's wording of the field problems (the public form speaks to the visitor).
MESSAGES = {
    "email_missing": "Vul het e-mailadres in.",
    "email_invalid": "Vul een geldig e-mailadres in, zoals naam@voorbeeld.be.",
    "name_control": "De naam bevat onzichtbare tekens of stuurtekens. Typ hem zonder die tekens.",
    "name_long": f"De naam mag hoogstens {NAME_MAX} tekens lang zijn.",
    "name_bidi": "De naam bevat een teken dat de schrijfrichting omkeert. Typ hem zonder dat "
                 "teken.",
    "name_invalid": "Deze naam kan niet gebruikt worden. Typ alleen een voor- en achternaam.",
    "municipality": "Kies een gemeente uit de lijst, of laat het veld Gemeente leeg.",
    "topics": "Kies de interesses uit de lijst bij Interesses.",
    "consent_long": f"De bron van de toestemming mag hoogstens {CONSENT_NOTE_MAX} tekens lang "
                    "zijn.",
    "consent_control": "De bron van de toestemming bevat stuurtekens. Typ ze op één regel.",
    "not_text": "Dit veld kan niet gelezen worden. Typ de tekst opnieuw.",
}


#: The add form's result: the sign-up form's, with ``consent_source`` filled in.
AddForm = FormResult


def read_add(form: FormData, settings: Settings) -> AddForm:
    """The add form: email, naam, gemeente, interesses, toestemming (the consent source)."""
    result = AddForm()
    email_field(form, result, MESSAGES)
    name_field(form, result, MESSAGES)
    municipality_field(form, settings, result, MESSAGES)
    topics_field(form, result, MESSAGES)
    note = text_field(form, "toestemming", result, MESSAGES)
    if "toestemming" not in result.errors:
        if has_control(note):
            result.errors["toestemming"] = MESSAGES["consent_control"]
        elif len(note.strip()) > CONSENT_NOTE_MAX:
            result.errors["toestemming"] = MESSAGES["consent_long"]
        else:
            result.consent_source = clean_consent_note(note)
    return result


def read_consent_source(value: object) -> tuple[str | None, str | None]:
    """The import form's consent source: (the cleaned note or None, a Dutch problem or None)."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, MESSAGES["not_text"]
    if has_control(value):
        return None, MESSAGES["consent_control"]
    if len(value.strip()) > CONSENT_NOTE_MAX:
        return None, MESSAGES["consent_long"]
    return clean_consent_note(value), None


class BadFilter(ValueError):
    """A list filter no page of ours makes (a changed address): the caller answers 400."""


@dataclass(frozen=True)
class Filters:
    """The list's filters, as the page's links and forms carry them."""

    search: str = ""
    status: str = ""
    municipality: str = ""
    page: int = 1

    def query(self, **changes: object) -> dict[str, str]:
        """These filters (with ``changes``) as query parameters, empty ones left out."""
        values = {"q": self.search, "status": self.status, "gemeente": self.municipality,
                  "pagina": str(self.page)}
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v and not (k == "pagina" and v == "1")}

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


def read_filters(params: QueryParams | FormData, settings: Settings) -> Filters:
    """The filters of the list (or of the export form); BadFilter when one is not ours."""
    def one(name: str) -> str:
        values = params.getlist(name)
        if len(values) > 1 or (values and not isinstance(values[0], str)):
            raise BadFilter(name)
        return str(values[0]).strip() if values else ""

    search, status, municipality, page = one("q"), one("status"), one("gemeente"), one("pagina")
    if len(search) > SEARCH_MAX or has_control(search):
        raise BadFilter("q")
    if status and status not in {s.value for s in SubscriberStatus}:
        raise BadFilter("status")
    if municipality:
        try:
            municipality = municipality_and_subregion(settings, municipality)[0] or ""
        except SubscriberError as exc:
            raise BadFilter("gemeente") from exc
    number = 1
    if page:
        if not page.isascii() or not page.isdigit() or not 1 <= int(page) <= PAGE_MAX:
            raise BadFilter("pagina")
        number = int(page)
    return Filters(search, status, municipality, number)
