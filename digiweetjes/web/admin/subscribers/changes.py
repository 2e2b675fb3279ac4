"""Changing the list from the admin pages: add a person, unsubscribe, erase (after a check).

Each action is the CLI's own domain call (``add_subscriber``, ``remove_subscriber``, ``erase``)
in one transaction with its audit row. The audit names a person by row id, never by address:
after an erasure no address may remain anywhere but as the ledger's keyed hash.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from digiweetjes.errors import ProviderError, SubscriberError, SuppressedError
from digiweetjes.models import Subscriber, SubscriberStatus
from digiweetjes.subscribers import (
    add_subscriber,
    erase,
    find_subscriber,
    remove_subscriber,
    subscriber_by_id,
    suppression_of,
)
from digiweetjes.subscribers.emails import email_key, normalize_email
from digiweetjes.subscribers.labels import label
from digiweetjes.web.admin.auth import AdminUser, Role, admin_error, admin_page, audit, requires
from digiweetjes.web.admin.subscribers.common import ERASED, NOT_FOUND, person_path
from digiweetjes.web.admin.subscribers.forms import AddForm, read_add
from digiweetjes.web.errors import ErrorText
from digiweetjes.web.public.pages import context_of, in_transaction, see_other

MAIL_FAILED = ErrorText("De bevestigingsmail kon niet verstuurd worden", (
    "De mailprovider weigerde of antwoordde niet. Er is niets veranderd: de persoon staat niet "
    "op de lijst.",
    "Probeer het later opnieuw, of voeg de persoon toe met de bron van hun toestemming."))
CONFIRM_FIELD = "bevestig_adres"
CONFIRM_ID = "veld-bevestig-adres"
CONFIRM_WRONG = ("Typ het e-mailadres van deze abonnee precies over om te bevestigen dat je "
                 "alle gegevens wilt wissen.")


def _add_page(request: Request, user: AdminUser, form: AddForm | None = None, *,
              status: int = 200, existing: int | None = None) -> Response:
    return admin_page(request, user, "abonnees/nieuw.html.j2", status=status,
                      form_values=form.shown if form else {},
                      form_errors=form.errors if form else {},
                      error_list=form.error_list if form else [],
                      existing_path=person_path(existing) if existing else None)


@requires(Role.ADMIN)
async def add_form(request: Request, user: AdminUser) -> Response:
    """The form of ``subscribers add``: address, name, municipality, topics, consent source."""
    return _add_page(request, user)


@requires(Role.ADMIN)
async def add_post(request: Request, user: AdminUser) -> Response:
    """Add one person: active with a consent source, else pending with a confirmation mail."""
    context = context_of(request)
    form = read_add(await request.form(), context.settings)
    if form.errors:
        return _add_page(request, user, form, status=400)
    warnings: list[str] = []

    def work(session: Session) -> tuple[str, int | None]:
        existing = find_subscriber(session, form.email)
        if existing is not None:
            return "existing", existing.id
        suppression = suppression_of(session, context.settings, form.email)
        if suppression is not None:
            return f"suppressed:{suppression.reason}", None
        subscriber = add_subscriber(
            session, context.provider, context.clock, context.settings, email=form.email,
            name=form.name, municipality=form.municipality, topics=form.topics,
            consent_source=form.consent_source, warnings=warnings)
        audit(session, context.clock, user, "subscriber.add",
              f"abonnee #{subscriber.id} ({label('status', subscriber.status)})")
        return "added", subscriber.id

    try:
        outcome, subscriber_id = await in_transaction(request, work)
    except SuppressedError:
        outcome, subscriber_id = "suppressed:", None
    except ProviderError:
        return admin_error(request, user, 503, MAIL_FAILED)
    except SubscriberError:  # the domain's own check refused what ours let through
        form.errors["email"] = ("Dit adres kan niet toegevoegd worden. Controleer het en "
                                "probeer opnieuw.")
        return _add_page(request, user, form, status=400)
    if outcome == "existing":
        form.errors["email"] = "Dit adres staat al op de lijst. Open de pagina van deze abonnee."
        return _add_page(request, user, form, status=400, existing=subscriber_id)
    if outcome.startswith("suppressed:"):
        reason = label("suppression", outcome.split(":", 1)[1]) or "geblokkeerd"
        form.errors["email"] = (
            f"Dit adres staat op de blokkeerlijst ({reason}). Alleen de persoon zelf kan zich "
            "opnieuw inschrijven, via het inschrijfformulier en de bevestigingslink.")
        return _add_page(request, user, form, status=400)
    assert subscriber_id is not None
    if warnings:
        return admin_page(request, user, "abonnees/toegevoegd.html.j2", warnings=warnings,
                          path=person_path(subscriber_id))
    return see_other(person_path(subscriber_id) + "?melding=toegevoegd")


@requires(Role.ADMIN)
async def unsubscribe_post(request: Request, user: AdminUser) -> Response:
    """Unsubscribe someone on their request (by phone or mail); they stay suppressed."""
    context = context_of(request)
    subscriber_id: int = request.path_params["subscriber_id"]

    def work(session: Session) -> str:
        subscriber = subscriber_by_id(session, subscriber_id)
        if subscriber is None:
            return "missing"
        if subscriber.email is None:
            return "erased"
        remove_subscriber(session, context.clock, context.settings, subscriber.email)
        audit(session, context.clock, user, "subscriber.unsubscribe", f"abonnee #{subscriber_id}")
        return "done"

    outcome = await in_transaction(request, work)
    if outcome == "missing":
        return admin_error(request, user, 404, NOT_FOUND)
    if outcome == "erased":
        return admin_error(request, user, 400, ERASED)
    return see_other(person_path(subscriber_id) + "?melding=uitgeschreven")


def _erase_page(request: Request, user: AdminUser, person: dict[str, Any], *,
                status: int = 200, error: str | None = None) -> Response:
    return admin_page(request, user, "abonnees/wissen.html.j2", status=status, person=person,
                      path=person_path(person["id"]), confirm_field=CONFIRM_FIELD,
                      confirm_id=CONFIRM_ID, error=error,
                      error_list=[(CONFIRM_ID, error)] if error else [])


def _person(subscriber: Subscriber | None) -> dict[str, Any] | None:
    if subscriber is None:
        return None
    return {"id": subscriber.id, "email": subscriber.email, "name": subscriber.name or "",
            "erased": subscriber.status == SubscriberStatus.ERASED}


@requires(Role.ADMIN)
async def erase_form(request: Request, user: AdminUser) -> Response:
    """The confirmation step: what erasing means, and the address to type over."""
    subscriber_id: int = request.path_params["subscriber_id"]
    person = await in_transaction(
        request, lambda session: _person(subscriber_by_id(session, subscriber_id)), write=False)
    if person is None:
        return admin_error(request, user, 404, NOT_FOUND)
    if person["erased"]:
        return admin_error(request, user, 400, ERASED)
    return _erase_page(request, user, person)


def _same_address(typed: object, email: str) -> bool:
    if not isinstance(typed, str) or not typed.strip() or len(typed) > 320:
        return False
    try:
        return email_key(normalize_email(typed)) == email_key(normalize_email(email))
    except SubscriberError:
        return False


@requires(Role.ADMIN)
async def erase_post(request: Request, user: AdminUser) -> Response:
    """Right to be forgotten (``gdpr.erase``), once the admin typed the address over."""
    context = context_of(request)
    subscriber_id: int = request.path_params["subscriber_id"]
    form = await request.form()
    typed = form.get(CONFIRM_FIELD)

    def work(session: Session) -> tuple[str, dict[str, Any] | None]:
        subscriber = subscriber_by_id(session, subscriber_id)
        person = _person(subscriber)
        if subscriber is None or person is None:
            return "missing", None
        if subscriber.email is None:
            return "erased", person
        if not _same_address(typed, subscriber.email):
            return "unconfirmed", person
        result = erase(session, context.clock, context.settings, subscriber.email)
        audit(session, context.clock, user, "subscriber.erase",
              f"abonnee #{subscriber_id} ({result.ledger_events} regels in het "
              "toestemmingslogboek geanonimiseerd)")
        return "done", person

    outcome, person = await in_transaction(request, work)
    if outcome == "missing" or person is None:
        return admin_error(request, user, 404, NOT_FOUND)
    if outcome == "erased":
        return admin_error(request, user, 400, ERASED)
    if outcome == "unconfirmed":
        return _erase_page(request, user, person, status=400, error=CONFIRM_WRONG)
    return see_other(person_path(subscriber_id) + "?melding=gewist")
