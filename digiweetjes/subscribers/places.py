"""The region (municipalities → Digibank subregion) for the subscriber list, read once per file."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from digiweetjes.config import Settings
from digiweetjes.content.region import Region, load_region
from digiweetjes.errors import SubscriberError
from digiweetjes.subscribers.cleaning import shown
from digiweetjes.suggest import did_you_mean


@lru_cache(maxsize=4)
def _cached(path: Path, mtime_ns: int) -> Region:
    return load_region(path)


def region(settings: Settings) -> Region:
    """The region of ``issues/projects.yaml`` (re-read when the file changes)."""
    path = settings.projects_path
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = -1  # load_region reports the missing file with its path
    return _cached(path, mtime)


def municipality_and_subregion(settings: Settings,
                               municipality: str | None) -> tuple[str | None, str | None]:
    """The canonical municipality and its subregion id; SubscriberError for an unknown one."""
    if municipality is None or not municipality.strip():
        return None, None
    the_region = region(settings)
    canonical = the_region.canonical_municipality(municipality)
    if canonical is None:
        raise SubscriberError(unknown_municipality(municipality, the_region.municipalities,
                                                   empty_allowed=True))
    return canonical, the_region.subregion_of(canonical).id


def unknown_municipality(value: str, municipalities: Sequence[str], *,
                         empty_allowed: bool = False) -> str:
    """``onbekende gemeente 'Brugs' (bedoelde je 'Brugge'?); kies uit: …`` (Dutch, for people)."""
    choices = ", ".join(municipalities) + (", of laat leeg" if empty_allowed else "")
    word = value.strip()
    hint = did_you_mean(word, municipalities)
    return f"onbekende gemeente {shown(word)}{hint}; kies uit: {choices}"
