"""What the subscriber pages share: their paths, the notices after an action, the error texts."""

from __future__ import annotations

from digiweetjes.web.errors import ErrorText

LIST_PATH = "/beheer/abonnees"
ADD_PATH = "/beheer/abonnees/nieuw"
IMPORT_PATH = "/beheer/abonnees/importeren"
EXPORT_PATH = "/beheer/abonnees/export"


def person_path(subscriber_id: int) -> str:
    """A person's page (by row id: an address in a URL would end up in logs and history)."""
    return f"{LIST_PATH}/{subscriber_id}"


#: ``?melding=`` after an action → the notice the next page shows (never text from the URL).
NOTICES = {
    "toegevoegd": "De abonnee is toegevoegd.",
    "uitgeschreven": "De abonnee is uitgeschreven en staat op de blokkeerlijst.",
    "gewist": "Alle persoonsgegevens van deze abonnee zijn gewist. Het adres blijft alleen als "
              "sleutel-hash bewaard (in het toestemmingslogboek en op de blokkeerlijst), zodat "
              "het niet opnieuw geïmporteerd wordt.",
}

NOT_FOUND = ErrorText("Deze abonnee bestaat niet", (
    "Misschien is de link onvolledig, of werd een wachtende inschrijving ondertussen "
    "automatisch verwijderd.",
    "Zoek de persoon op in de lijst van abonnees."))
BAD_FILTER = ErrorText("Deze zoekopdracht klopt niet", (
    "Een van de filters heeft een waarde die deze pagina niet kent.",
    "Ga terug naar de lijst van abonnees en kies de filters opnieuw."))
ERASED = ErrorText("Deze abonnee is gewist", (
    "Van een gewiste abonnee zijn geen persoonsgegevens meer over: er valt niets meer uit te "
    "schrijven, te wissen of te downloaden.",))
