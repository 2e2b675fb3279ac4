"""Validating and normalising email addresses (email-validator, never a DNS lookup)."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from digiweetjes.errors import SubscriberError

# A conservative shape of the everyday ASCII address; for those, normalising is lower-casing the
# domain, exactly what email-validator does, at a fraction of its cost (imports of 100k rows).
# Anything else (IDN, quoted, unusual) goes through email-validator itself.
_FAST = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


class InvalidEmailError(SubscriberError):
    """An address that is not a valid email address."""


# email-validator explains in English; an admin reads the gist in Dutch (first match wins).
_REASONS = (
    ("@-sign", "er moet precies één @ in staan, met tekst ervoor en erna"),
    ("too long", "het adres is te lang"),
    ("period", "een punt staat op een verkeerde plaats (aan het begin of einde, of twee na "
               "elkaar)"),
    ("character", "het bevat een teken dat in een e-mailadres niet mag"),
    ("domain", "de domeinnaam na de @ klopt niet"),
)


def _reason(exc: EmailNotValidError) -> str:
    text = str(exc)
    return next((dutch for key, dutch in _REASONS if key in text),
                "dit is geen geldig e-mailadres")


def normalize_email(raw: str) -> str:
    """The normalised form of an address (domain lower-cased, IDN decoded), or InvalidEmailError."""
    text = raw.strip()
    match = _FAST.fullmatch(text)
    if match and _fast_path_ok(text, match.group(1)):
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise InvalidEmailError(f"ongeldig e-mailadres {shown!r}: {_reason(exc)}") from exc


def _fast_path_ok(text: str, domain: str) -> bool:
    if len(text) > 254 or len(text) - len(domain) - 1 > 64:
        return False
    if domain.rpartition(".")[2].lower() in _SPECIAL_USE_TLDS:
        return False
    # Punycode labels ("xn--") are decoded by email-validator; leave any "--" to it.
    return "--" not in domain


def email_key(normalized: str) -> str:
    """The case-insensitive identity of an address: unique on the list, hashed for suppression."""
    return normalized.lower()


# ---------------------------------------------------------------- look-alike addresses

# Scripts whose letters may share one label (UTS #39 "highly restrictive"): Latin with the
# Chinese, Japanese or Korean scripts. Any other mixture in one label is how homoglyph domains
# are made ("ехample.org" with a Cyrillic е and х).
_EAST_ASIAN = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "IDEOGRAPHIC"})
_SCRIPT_NAMES = {"LATIN": "Latijns", "CYRILLIC": "Cyrillisch", "GREEK": "Grieks",
                 "ARMENIAN": "Armeens", "HEBREW": "Hebreeuws", "ARABIC": "Arabisch",
                 "CHEROKEE": "Cherokee", "EAST_ASIAN": "Oost-Aziatisch"}


def _script(ch: str) -> str | None:
    """The script of a letter (first word of its Unicode name); None for digits, '-' etc."""
    if not ch.isalpha():
        return None
    if ch.isascii():
        return "LATIN"
    word = unicodedata.name(ch, "UNKNOWN").split()[0]
    return "EAST_ASIAN" if word in _EAST_ASIAN else word


def mixed_scripts(label: str) -> list[str]:
    """The Dutch names of the scripts ``label`` mixes; empty when it keeps to one."""
    scripts = {s for s in map(_script, label) if s is not None}
    if len(scripts) < 2 or scripts == {"LATIN", "EAST_ASIAN"}:
        return []
    return sorted(_SCRIPT_NAMES.get(s, s.capitalize()) for s in scripts)


# Letters of other scripts that look like ASCII letters (the usual homoglyphs of UTS #39's
# confusables list for Cyrillic, Greek and Latin look-alikes); enough to see through a spoof.
_CONFUSABLES = str.maketrans({
    **dict(zip("аԁеһіјӏоԛрсѕԝхуьꙅѵғɡɩɑαβεικνορτυχωϲϳ",
               "adehijlogpcswxybsvfgiaabeikvoptuxwcj", strict=True)),
    **dict(zip("АВЕКМНОРСТХУЅІЈԚԜΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
               "ABEKMHOPCTXYSIJQWABEZHIKMNOPTYX", strict=True)),
    "ı": "i", "ȷ": "j", "ℓ": "l",
})


def skeleton(address: str) -> str:
    """``address`` with look-alike letters of other scripts replaced by the ASCII they imitate."""
    return unicodedata.normalize("NFKC", address).translate(_CONFUSABLES)


def mixed_script_parts(address: str) -> list[tuple[str, list[str]]]:
    """The parts of a normalised address (local part, domain labels) that mix scripts."""
    local, _, domain = address.rpartition("@")
    parts = [local, *domain.split(".")]
    return [(part, scripts) for part in parts if (scripts := mixed_scripts(part))]
