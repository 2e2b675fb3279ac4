"""The "bedoelde je …?" hint for a mistyped name: the closest known one, or nothing."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable


def _folded(text: str) -> str:
    # Case, accents and spacing are the usual typos ("Knokke heist", "digíscan"): ignore them.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in letters if c.isalnum())


def closest(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The choice most like ``word`` (as it is written in ``choices``), or None if none is close."""
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(_folded(choice), choice)
    target = _folded(word)
    if not target:
        return None
    if target in by_folded:
        return by_folded[target]
    matches = difflib.get_close_matches(target, list(by_folded), n=1, cutoff=cutoff)
    return by_folded[matches[0]] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (bedoelde je 'digiscan'?)`` for a close match, else an empty string: append it."""
    match = closest(word, choices)
    return f" (bedoelde je '{match}'?)" if match is not None and match != word else ""
