"""The topics a subscriber can choose: the project calls and the four thresholds of e-inclusie."""

from __future__ import annotations

import re

from digiweetjes.errors import SubscriberError
from digiweetjes.subscribers.cleaning import shown
from digiweetjes.suggest import did_you_mean

#: Topic id → Dutch label (what a subscriber sees on the preferences page).
TOPICS: dict[str, str] = {
    "projectoproepen": "Projectoproepen en subsidies",
    "digitale-toegang": "Digitale toegang",
    "digitale-competenties": "Digitale competenties",
    "netwerk-ondersteuning": "Netwerk en ondersteuning",
    "toegankelijk-design": "Toegankelijk digitaal design",
}

_FOLD = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    return _FOLD.sub("-", text.strip().lower()).strip("-")


_LOOKUP = {**{_fold(k): k for k in TOPICS}, **{_fold(v): k for k, v in TOPICS.items()}}


def canonical_topic(text: str) -> str | None:
    """The topic id for an id or a Dutch label typed by a person, or None if unknown."""
    return _LOOKUP.get(_fold(text))


def parse_topics(values: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Sorted topic ids from ids/labels (a list, or one text separated by ',' or '|')."""
    if not values:
        return []
    items = re.split(r"[,|]", values) if isinstance(values, str) else list(values)
    topics: set[str] = set()
    for item in items:
        if not item.strip():
            continue
        topic = canonical_topic(item)
        if topic is None:
            raise SubscriberError(
                f"onbekend thema {shown(item.strip())}{did_you_mean(item.strip(), TOPICS)}; "
                f"kies uit: {', '.join(TOPICS)}")
        topics.add(topic)
    return sorted(topics)
