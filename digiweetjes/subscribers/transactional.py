"""The service mails of the list: the double opt-in confirmation and "je bent al ingeschreven".

They go through the same pipeline as the newsletter (Jinja with StrictUndefined → MJML → HTML,
plus a text part from its own template) and the same provider protocol: rendered once with
placeholders, then filled per recipient. They go through ``Provider.send_transactional``, one
message a request on each provider's single-message path, without List-Unsubscribe.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from weakref import WeakKeyDictionary

import jinja2

from digiweetjes.config import Settings
from digiweetjes.errors import PermanentProviderError, ProviderError
from digiweetjes.links import privacy_url
from digiweetjes.providers.base import BatchContent, Provider, Recipient, RecipientResult
from digiweetjes.render import mjml_to_html
from digiweetjes.render.placeholders import FillableTemplate, placeholder
from digiweetjes.render.templating import environment, render_template
from digiweetjes.subscribers.tokens import CONFIRM_LIFETIME

PENDING_RETENTION_DAYS = 30
ORGANISATION = "Werkkracht10"


class MailKind(StrEnum):
    CONFIRM = "confirm"
    ALREADY_SUBSCRIBED = "already-subscribed"


_SUBJECTS = {
    MailKind.CONFIRM: "Bevestig je inschrijving op Digi-weetjes",
    MailKind.ALREADY_SUBSCRIBED: "Je bent al ingeschreven op Digi-weetjes",
}
_PREVIEWS = {
    MailKind.CONFIRM: "Eén klik nog: bevestig dat je Digi-weetjes wilt ontvangen.",
    MailKind.ALREADY_SUBSCRIBED: "Je ontvangt Digi-weetjes al. Je voorkeuren aanpassen kan hier.",
}
_PLACEHOLDERS = {
    MailKind.CONFIRM: ("greeting", "confirm_url"),
    MailKind.ALREADY_SUBSCRIBED: ("greeting", "preferences_url", "unsubscribe_url"),
}


@dataclass(frozen=True)
class ServiceMail:
    """One addressee of a service mail and their own values (URLs, name)."""

    reference: str
    email: str
    name: str | None
    urls: dict[str, str]


def greeting(name: str | None) -> str:
    """``Dag Jan Peeters,`` or ``Dag,``."""
    return f"Dag {name}," if name else "Dag,"


#: Rendered service mails, per Jinja environment (one per templates folder) and the settings
#: they show. The environment does not reload templates (``templating.environment``); when it
#: is replaced (the preview server clears it), its rendered mails go with it.
_RENDERED: WeakKeyDictionary[jinja2.Environment, dict[tuple[str | None, ...], BatchContent]] = (
    WeakKeyDictionary())


def render_service_mail(settings: Settings, kind: MailKind) -> BatchContent:
    """The mail of ``kind`` with placeholders for the per-recipient values; rendered once (a
    sign-up would otherwise run Jinja and MJML for every confirmation)."""
    key = (kind.value, settings.reply_to, privacy_url(settings), settings.sender_email,
           settings.sender_name, settings.unsubscribe_mailto)
    rendered = _RENDERED.setdefault(environment(settings.templates_dir), {})
    content = rendered.get(key)
    if content is None:
        content = rendered[key] = _render_service_mail(settings, kind)
    return content


def _render_service_mail(settings: Settings, kind: MailKind) -> BatchContent:
    context: dict[str, object] = {
        "title": _SUBJECTS[kind],
        "preview": _PREVIEWS[kind],
        "organisation": ORGANISATION,
        "contact_email": settings.reply_to,
        "privacy_url": privacy_url(settings),
        "lifetime_days": CONFIRM_LIFETIME.days,
        "retention_days": PENDING_RETENTION_DAYS,
    }
    context.update({name: placeholder(name) for name in _PLACEHOLDERS[kind]})
    name = f"email/{kind.value}"
    mjml = render_template(settings.templates_dir, f"{name}.mjml.j2", **context)
    text = render_template(settings.templates_dir, f"{name}.txt.j2", **context)
    return BatchContent(
        issue_id="transactional",
        subject=_SUBJECTS[kind],
        html=FillableTemplate.parse(mjml_to_html(mjml, f"{name}.mjml.j2")),
        text=FillableTemplate.parse(text),
        placeholders=_PLACEHOLDERS[kind],
        from_email=settings.sender_email,
        from_name=settings.sender_name,
        reply_to=settings.reply_to,
        unsubscribe_mailto=settings.unsubscribe_mailto,
        tag=kind.value,
    )


#: What each service mail is called in an error message (Dutch: admins and the web app read it).
_LABELS = {
    MailKind.CONFIRM: "de bevestigingsmail",
    MailKind.ALREADY_SUBSCRIBED: "de mail 'je bent al ingeschreven'",
}


def send_service_mails(provider: Provider, settings: Settings, kind: MailKind,
                       mails: Sequence[ServiceMail]) -> list[RecipientResult]:
    """Render once, then send each mail on the provider's transactional path, one request
    each; one result per mail, in order (a ``ProviderError`` stops at the mail it is about).

    One request a mail rather than a batch: a confirmation is not list mail, so it travels
    the single-message path with no List-Unsubscribe (Postmark's transactional stream, not
    the broadcast one), one refused address cannot sink the others' request, and the volumes
    are small (a sign-up, or an import's pending people once).
    """
    if not mails:
        return []
    content = render_service_mail(settings, kind)
    return [send_rendered(provider, content, kind, mail) for mail in mails]


def send_rendered(provider: Provider, content: BatchContent, kind: MailKind,
                  mail: ServiceMail) -> RecipientResult:
    """Send one mail of a rendered service content (``render_service_mail``).

    A provider error keeps its kind (transient, permanent, uncertain) and gets a Dutch
    message naming the mail, the address and the provider.
    """
    try:
        return provider.send_transactional(content, _recipient(kind, mail))
    except ProviderError as exc:
        wrapped = type(exc)(f"{_LABELS[kind]} aan {mail.email} kon niet verstuurd worden "
                            f"via {provider.name}: {exc}")
        wrapped.__dict__.update(vars(exc))  # status_code, retry_after
        raise wrapped from exc


def send_service_mail(provider: Provider, settings: Settings, kind: MailKind,
                      mail: ServiceMail) -> RecipientResult:
    """Send one service mail; ProviderError (in Dutch) when the provider did not take it."""
    (result,) = send_service_mails(provider, settings, kind, [mail])
    if result.status != "sent":
        raise PermanentProviderError(
            f"{_LABELS[kind]} aan {mail.email} werd geweigerd door {provider.name}: "
            f"{result.reason or 'geen reden opgegeven'}")
    return result


def _recipient(kind: MailKind, mail: ServiceMail) -> Recipient:
    text_values = {"greeting": greeting(mail.name), **mail.urls}
    missing = set(_PLACEHOLDERS[kind]) - set(text_values)
    if missing:
        raise ValueError(f"{kind.value} mail needs {sorted(missing)}")
    return Recipient(
        reference=mail.reference,
        email=mail.email,
        name=mail.name,
        html_values={key: html.escape(value) for key, value in text_values.items()},
        text_values=text_values,
        # Not read on the transactional path: service mail is not list mail and carries no
        # List-Unsubscribe (the "already subscribed" mail has the link in its body).
        unsubscribe_url=mail.urls.get("unsubscribe_url", ""),
    )
