"""Cleaning what people and admins type: display names, consent notes, the language."""

from __future__ import annotations

import unicodedata

from digiweetjes.errors import SubscriberError
from digiweetjes.render.placeholders import strip_markers

NAME_MAX = 200
CONSENT_NOTE_MAX = 500
LANGUAGES = ("nl-BE",)


def clean_name(name: str | None) -> str | None:
    """A display name without control characters or placeholder markers; None when empty."""
    if name is None:
        return None
    text = unicodedata.normalize("NFC", name)
    if not text.isprintable():  # control or private-use characters (placeholder markers)
        text = strip_markers(text)
        text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = " ".join(text.split())
    if len(text) > NAME_MAX:
        raise SubscriberError(f"name is longer than {NAME_MAX} characters")
    return text or None


def clean_consent_note(note: str | None) -> str | None:
    """The stated consent source of an import or admin add; None when empty."""
    text = " ".join((note or "").split())
    if len(text) > CONSENT_NOTE_MAX:
        raise SubscriberError(f"consent source is longer than {CONSENT_NOTE_MAX} characters")
    return text or None


def check_language(language: str) -> str:
    """The language, when it is one the newsletter is written in; SubscriberError otherwise."""
    if language not in LANGUAGES:
        raise SubscriberError(f"unsupported language {language!r} (supported: {LANGUAGES})")
    return language
