"""Reading the subscriber forms: each field checked with the subscriber domain's own rules, each
problem said in Dutch and tied to its field (for the error summary and ``aria-describedby``).

The field readers serve the public forms (``read_signup``, ``read_preferences``) and the admin's
add form alike; each is handed the wording of its audience (``MESSAGES`` speaks to the visitor).

The domain functions check the same again when they are called; checking first here is only
to say what is wrong, per field, in words a visitor understands (the domain's messages are for
developers). Stricter than the domain in one way: a control character (NUL, a line break) has no
business in a one-line field, so it is refused rather than cleaned.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.datastructures import FormData

from digiweetjes.config import Settings
from digiweetjes.errors import SubscriberError
from digiweetjes.subscribers.cleaning import BIDI_CONTROLS, NAME_MAX, clean_name
from digiweetjes.subscribers.emails import normalize_email
from digiweetjes.subscribers.places import municipality_and_subregion
from digiweetjes.subscribers.topics import TOPICS

#: Form field → the id of its input (the error summary links there). Interests and consent are
#: groups: their link goes to the first checkbox.
FIELD_IDS = {
    "email": "veld-email",
    "naam": "veld-naam",
    "gemeente": "veld-gemeente",
    "interesses": "veld-interesses-" + next(iter(TOPICS)),
    "toestemming": "veld-toestemming",
}
EMAIL_MAX = 254
#: Echoing a huge value back into the form helps nobody; what is shown is cut here.
ECHO_MAX = 300
CONSENT_VALUE = "ja"

MESSAGES = {
    "email_missing": "Vul je e-mailadres in.",
    "email_invalid": "Vul een geldig e-mailadres in, zoals naam@voorbeeld.be.",
    "name_control": "Je naam bevat onzichtbare tekens of stuurtekens. Typ je naam zonder die "
                    "tekens.",
    "name_long": f"Je naam mag hoogstens {NAME_MAX} tekens lang zijn.",
    "name_bidi": "Je naam bevat een teken dat de schrijfrichting omkeert. Typ je naam zonder dat "
                 "teken.",
    "name_invalid": "Deze naam kunnen we niet gebruiken. Typ alleen je voor- en achternaam.",
    "municipality": "Kies je gemeente uit de lijst, of laat het veld Gemeente leeg.",
    "topics": "Kies je interesses uit de lijst bij Interesses.",
    "consent": "Vink aan dat je Digi-weetjes per e-mail wilt ontvangen en akkoord gaat met de "
               "privacyverklaring.",
    "not_text": "Dit veld kunnen we niet lezen. Typ de tekst opnieuw.",
}


@dataclass
class FormResult:
    """What a form said: the checked values, the values to show again, and the problems."""

    email: str = ""
    name: str | None = None
    municipality: str | None = None
    topics: list[str] = field(default_factory=list)
    consent: bool = False
    #: The admin's add form: how consent was obtained outside the double opt-in.
    consent_source: str | None = None
    #: As typed (cut to ECHO_MAX), to fill the form in again.
    shown: dict[str, object] = field(default_factory=dict)
    #: Field → Dutch message, in the order of the form.
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """(input id, message) for the error summary."""
        return [(FIELD_IDS[name], message) for name, message in self.errors.items()]


def has_control(text: str) -> bool:
    """A control character (NUL, a line break...): never at home in a one-line field."""
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def text_field(form: FormData, name: str, result: FormResult,
               messages: Mapping[str, str] = MESSAGES) -> str:
    """One text field ('' when absent); a file or several values is a problem of the field."""
    values = form.getlist(name)
    if not values:
        result.shown[name] = ""
        return ""
    value = values[-1]
    if len(values) > 1 or not isinstance(value, str):
        result.errors[name] = messages["not_text"]
        result.shown[name] = ""
        return ""
    result.shown[name] = value[:ECHO_MAX]
    return value


def email_field(form: FormData, result: FormResult,
                messages: Mapping[str, str] = MESSAGES) -> None:
    text = text_field(form, "email", result, messages).strip()
    if "email" in result.errors:
        return
    if not text:
        result.errors["email"] = messages["email_missing"]
        return
    if len(text) > EMAIL_MAX or has_control(text):
        result.errors["email"] = messages["email_invalid"]
        return
    try:
        result.email = normalize_email(text)
    except SubscriberError:
        result.errors["email"] = messages["email_invalid"]


def name_field(form: FormData, result: FormResult,
               messages: Mapping[str, str] = MESSAGES) -> None:
    text = text_field(form, "naam", result, messages)
    if "naam" in result.errors:
        return
    if has_control(text):
        result.errors["naam"] = messages["name_control"]
    elif len(text.strip()) > NAME_MAX:
        result.errors["naam"] = messages["name_long"]
    elif any(ch in BIDI_CONTROLS for ch in text):
        result.errors["naam"] = messages["name_bidi"]
    else:
        try:
            result.name = clean_name(text)
        except SubscriberError:
            result.errors["naam"] = messages["name_invalid"]


def municipality_field(form: FormData, settings: Settings, result: FormResult,
                       messages: Mapping[str, str] = MESSAGES) -> None:
    text = text_field(form, "gemeente", result, messages)
    if "gemeente" in result.errors or not text.strip():
        return
    try:
        result.municipality, _subregion = municipality_and_subregion(settings, text)
    except SubscriberError:
        result.errors["gemeente"] = messages["municipality"]


def topics_field(form: FormData, result: FormResult,
                 messages: Mapping[str, str] = MESSAGES) -> None:
    values = form.getlist("interesses")
    if not all(isinstance(value, str) and value in TOPICS for value in values):
        result.errors["interesses"] = messages["topics"]
    chosen = sorted({value for value in values if isinstance(value, str) and value in TOPICS})
    result.topics = chosen
    result.shown["interesses"] = chosen


def read_signup(form: FormData, settings: Settings) -> FormResult:
    """The sign-up form: email, naam, gemeente, interesses, toestemming."""
    result = FormResult()
    email_field(form, result)
    name_field(form, result)
    municipality_field(form, settings, result)
    topics_field(form, result)
    consent = form.getlist("toestemming")
    result.consent = consent == [CONSENT_VALUE]
    result.shown["toestemming"] = result.consent
    if not result.consent:
        result.errors["toestemming"] = MESSAGES["consent"]
    return result


def read_preferences(form: FormData, settings: Settings) -> FormResult:
    """The preferences form: naam, gemeente, interesses (none chosen clears them)."""
    result = FormResult()
    name_field(form, result)
    municipality_field(form, settings, result)
    topics_field(form, result)
    return result


def shown_from(name: str | None, municipality: str | None, topics: list[str]) -> dict[str, object]:
    """A subscriber's current choices as form values."""
    return {"naam": name or "", "gemeente": municipality or "", "interesses": list(topics)}
