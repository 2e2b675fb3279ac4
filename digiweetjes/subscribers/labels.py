"""The Dutch words an admin reads for the list's stored values (statuses, events...).

The database keeps English identifiers (the code and the CLI's options use them); the admin
pages and the CLI's tables show these words.
An unknown value is shown as stored rather than hidden.
"""

from __future__ import annotations

from digiweetjes.models import (
    ConsentEventType,
    DeliveryState,
    Source,
    SubscriberStatus,
    SuppressionReason,
)

STATUS = {
    SubscriberStatus.PENDING: "wacht op bevestiging",
    SubscriberStatus.ACTIVE: "actief",
    SubscriberStatus.UNSUBSCRIBED: "uitgeschreven",
    SubscriberStatus.BOUNCED: "onbestelbaar (bounce)",
    SubscriberStatus.COMPLAINED: "klacht (spam)",
    SubscriberStatus.ERASED: "gewist",
}
EVENT = {
    ConsentEventType.SUBSCRIBED: "ingeschreven",
    ConsentEventType.CONFIRMED: "bevestigd",
    ConsentEventType.UNSUBSCRIBED: "uitgeschreven",
    ConsentEventType.IMPORTED: "geïmporteerd",
    ConsentEventType.PREFERENCES_CHANGED: "voorkeuren gewijzigd",
    ConsentEventType.BOUNCED: "onbestelbaar (bounce)",
    ConsentEventType.COMPLAINED: "klacht (spam)",
    ConsentEventType.ERASED: "gewist",
    ConsentEventType.EXPIRED: "vervallen (niet bevestigd)",
}
SOURCE = {
    Source.FORM: "formulier",
    Source.IMPORT: "import",
    Source.ADMIN: "beheerder",
    Source.WEBHOOK: "mailprovider",
    Source.SYSTEM: "systeem",
}
DELIVERY = {
    DeliveryState.QUEUED: "in de wachtrij",
    DeliveryState.SENDING: "wordt verstuurd",
    DeliveryState.SENT: "verstuurd",
    DeliveryState.FAILED: "mislukt",
    DeliveryState.UNCERTAIN: "onzeker",
    DeliveryState.SUPPRESSED: "niet verstuurd (geblokkeerd)",
}
SUPPRESSION = {
    SuppressionReason.UNSUBSCRIBED: "uitgeschreven",
    SuppressionReason.COMPLAINED: "klacht (spam)",
    SuppressionReason.BOUNCED: "onbestelbaar (bounce)",
    SuppressionReason.ERASED: "gewist",
}
#: The statuses the list's filter offers (erased tombstones only when asked for).
STATUS_CHOICES = [(status.value, label) for status, label in STATUS.items()]

LABELS = {"status": STATUS, "event": EVENT, "source": SOURCE, "delivery": DELIVERY,
          "suppression": SUPPRESSION}


def label(kind: str, value: str | None) -> str:
    """The Dutch word for a stored ``value`` of ``kind`` (``status``, ``event``...)."""
    if value is None:
        return ""
    words: dict[str, str] = LABELS[kind]  # type: ignore[assignment]
    return words.get(value, value)
