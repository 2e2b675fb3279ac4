"""Reading the subscriber pages' forms and filters, each problem said in Dutch for its field.

The domain functions check everything again when called (``add_subscriber``, ``list_subscribers``);
checking here first is only to tell an admin, per field, what to change. The rules are the
domain's own (``normalize_email``, ``clean_name``, ``clean_consent_note``, the region's
municipalities, the topics).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData, QueryParams

from digiweetjes.config import Settings
from digiweetjes.errors import SubscriberError
from digiweetjes.models import SubscriberStatus
from digiweetjes.subscribers.cleaning import CONSENT_NOTE_MAX, NAME_MAX, clean_consent_note
from digiweetjes.subscribers.cleaning import clean_name as domain_clean_name
from digiweetjes.subscribers.emails import normalize_email
from digiweetjes.subscribers.places import municipality_and_subregion
from digiweetjes.subscribers.topics import TOPICS

EMAIL_MAX = 254
SEARCH_MAX = 254
ECHO_MAX = 300
PAGE_SIZE = 50
#: Past this page nobody is browsing; a bigger number is a typo or a probe.
PAGE_MAX = 100_000

#: Field → the id of its input (the error summary links there).
FIELD_IDS = {
    "email": "veld-email",
    "naam": "veld-naam",
    "gemeente": "veld-gemeente",
    "interesses": "veld-interesses-" + next(iter(TOPICS)),
    "toestemming": "veld-toestemming",
}
MESSAGES = {
    "email_missing": "Vul het e-mailadres in.",
    "email_invalid": "Vul een geldig e-mailadres in, zoals naam@voorbeeld.be.",
    "name_control": "De naam bevat onzichtbare tekens of stuurtekens. Typ hem zonder die tekens.",
    "name_long": f"De naam mag hoogstens {NAME_MAX} tekens lang zijn.",
    "name_invalid": "Deze naam kan niet gebruikt worden. Typ alleen een voor- en achternaam.",
    "municipality": "Kies een gemeente uit de lijst, of laat het veld Gemeente leeg.",
    "topics": "Kies de interesses uit de lijst bij Interesses.",
    "consent_long": f"De bron van de toestemming mag hoogstens {CONSENT_NOTE_MAX} tekens lang "
                    "zijn.",
    "consent_control": "De bron van de toestemming bevat stuurtekens. Typ ze op één regel.",
    "not_text": "Dit veld kan niet gelezen worden. Typ de tekst opnieuw.",
}


@dataclass
class AddForm:
    """The add form: checked values, the values to show again, and the problems per field."""

    email: str = ""
    name: str | None = None
    municipality: str | None = None
    topics: list[str] = field(default_factory=list)
    consent_source: str | None = None
    shown: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """(input id, message) for the error summary."""
        return [(FIELD_IDS[name], message) for name, message in self.errors.items()]


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def _text(form: FormData, name: str, result: AddForm) -> str:
    values = form.getlist(name)
    result.shown[name] = ""
    if not values:
        return ""
    value = values[-1]
    if len(values) > 1 or not isinstance(value, str):
        result.errors[name] = MESSAGES["not_text"]
        return ""
    result.shown[name] = value[:ECHO_MAX]
    return value


def read_add(form: FormData, settings: Settings) -> AddForm:
    """The add form: email, naam, gemeente, interesses, toestemming (the consent source)."""
    result = AddForm()
    email = _text(form, "email", result).strip()
    if "email" not in result.errors:
        if not email:
            result.errors["email"] = MESSAGES["email_missing"]
        elif len(email) > EMAIL_MAX or _has_control(email):
            result.errors["email"] = MESSAGES["email_invalid"]
        else:
            try:
                result.email = normalize_email(email)
            except SubscriberError:
                result.errors["email"] = MESSAGES["email_invalid"]
    name = _text(form, "naam", result)
    if "naam" not in result.errors:
        if _has_control(name):
            result.errors["naam"] = MESSAGES["name_control"]
        elif len(name.strip()) > NAME_MAX:
            result.errors["naam"] = MESSAGES["name_long"]
        else:
            try:
                result.name = domain_clean_name(name)
            except SubscriberError:
                result.errors["naam"] = MESSAGES["name_invalid"]
    municipality = _text(form, "gemeente", result)
    if "gemeente" not in result.errors and municipality.strip():
        try:
            result.municipality = municipality_and_subregion(settings, municipality)[0]
        except SubscriberError:
            result.errors["gemeente"] = MESSAGES["municipality"]
    topics = form.getlist("interesses")
    if not all(isinstance(value, str) and value in TOPICS for value in topics):
        result.errors["interesses"] = MESSAGES["topics"]
    result.topics = sorted({v for v in topics if isinstance(v, str) and v in TOPICS})
    result.shown["interesses"] = result.topics
    note = _text(form, "toestemming", result)
    if "toestemming" not in result.errors:
        if _has_control(note):
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
    if _has_control(value):
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
    if len(search) > SEARCH_MAX or _has_control(search):
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
