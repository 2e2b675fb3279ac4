"""Cleaning what people and admins type: display names, consent notes, the language.

A name reaches mail headers, the terminal and Excel, and comes from the public form: every entry
(form, preferences page, admin add, CSV import) passes it through ``clean_name``, the one rule.
"""

from __future__ import annotations

import re
import unicodedata

from digiweetjes.errors import SubscriberError
from digiweetjes.render.placeholders import strip_markers

NAME_MAX = 200
CONSENT_NOTE_MAX = 500
LANGUAGES = ("nl-BE",)

# Explicit direction controls (embeddings, overrides, isolates) reorder what a reader sees:
# "‮moc.elpmaxe" shows as "example.com". Nobody types them in a name; refused, not hidden.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Zero-width (non-)joiners belong to Persian and Indic spelling and to emoji sequences.
_KEPT_FORMAT = frozenset("\u200c\u200d")
# An RFC 2047 encoded word, and the sloppy variants lenient mail readers decode as well: mail
# software would read "=?utf-8?q?Bcc=3A_x@y?=" as a header of its own.
_ENCODED_WORD = re.compile(r"=\?.*\?=", re.DOTALL)


def shown(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message: control characters escaped, long text cut."""
    return repr(text if len(text) <= limit else text[:limit - 1] + "…")


def clean_name(name: str | None) -> str | None:
    """A display name fit for headers and screens; None when empty; SubscriberError if refused.

    Line breaks, tabs and other control characters become a space and invisible format
    characters (but the joiners) are removed, as is any placeholder marker; encoded words
    (``=?utf-8?q?…?=``) and direction controls are refused with a Dutch message.
    """
    if name is None:
        return None
    text = unicodedata.normalize("NFC", name)
    if not text.isprintable():  # control, format or private-use characters (placeholder markers)
        bidi = sorted({ch for ch in text if ch in BIDI_CONTROLS})
        if bidi:
            codes = ", ".join(f"U+{ord(ch):04X}" for ch in bidi)
            raise SubscriberError(
                f"ongeldige naam {shown(text)}: bevat een teken dat de schrijfrichting omkeert "
                f"({codes}); typ de naam zonder dat teken")
        text = "".join(_clean_char(ch) for ch in strip_markers(text))
    text = " ".join(text.split())  # also U+2028, U+2029, U+0085 and no-break spaces
    if _ENCODED_WORD.search(text):
        raise SubscriberError(
            f"ongeldige naam {shown(text)}: tekst in de vorm '=?…?=' is gecodeerde mailtekst en "
            "hoort niet in een naam; typ de naam gewoon uit")
    if len(text) > NAME_MAX:
        raise SubscriberError(f"de naam is langer dan {NAME_MAX} tekens")
    return text or None


def _clean_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch if ch in _KEPT_FORMAT else ""
    return " " if category[0] == "C" else ch


# Runs of characters that are UTF-8 bytes read as Windows-1252 (or Latin-1): "Ã©" for "é",
# "â€™" for "’". Lead characters U+00C2–U+00F4, continuations whatever bytes 0x80–0xBF show as.
_CONTINUATION = "".join(
    bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0xC0)
) + "".join(chr(b) for b in range(0x80, 0xA0))
_TO_BYTE = {ch: b for b in range(0x80, 0x100)
            for ch in {bytes([b]).decode("latin-1"), bytes([b]).decode("cp1252", "ignore")} if ch}
_C = f"[{re.escape(_CONTINUATION)}]"
_MOJIBAKE = re.compile(f"[\u00c2-\u00df]{_C}|[\u00e0-\u00ef]{_C}{{2}}|[\u00f0-\u00f4]{_C}{{3}}")


def repair_mojibake(text: str) -> str | None:
    """The intended text when ``text`` looks like UTF-8 read as Windows-1252, else None."""
    if text.isascii():
        return None
    found = False

    def fix(match: re.Match[str]) -> str:
        nonlocal found
        try:
            repaired = bytes(_TO_BYTE[ch] for ch in match.group()).decode("utf-8")
        except UnicodeDecodeError:  # an overlong or surrogate sequence: not UTF-8 after all
            return match.group()
        found = True
        return repaired

    repaired = _MOJIBAKE.sub(fix, text)
    return repaired if found else None


def clean_consent_note(note: str | None) -> str | None:
    """The stated consent source of an import or admin add; None when empty."""
    text = " ".join((note or "").split())
    if len(text) > CONSENT_NOTE_MAX:
        raise SubscriberError(f"de bron van de toestemming is langer dan {CONSENT_NOTE_MAX} "
                              "tekens")
    return text or None


def check_language(language: str) -> str:
    """The language, when it is one the newsletter is written in; SubscriberError otherwise."""
    if language not in LANGUAGES:
        raise SubscriberError(f"onbekende taal {shown(language)} (mogelijk: "
                              f"{', '.join(LANGUAGES)})")
    return language
