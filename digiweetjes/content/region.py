"""The ten municipalities of the Bruges reference region and their Digibank subregion.

The data lives in ``issues/projects.yaml`` (section ``region``), so editors keep one file; this
module gives the subscriber list a small, typed view of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from digiweetjes.content import read_editor_text
from digiweetjes.content.yamlsource import load_plain
from digiweetjes.errors import ContentError


@dataclass(frozen=True)
class Subregion:
    id: str          # "noord", "centrum", "west"
    name: str        # "Brugge Noord"
    digibank: str    # "Digibank Brugge Noord"
    contact_email: str
    municipalities: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    name: str
    subregions: tuple[Subregion, ...]

    @property
    def municipalities(self) -> tuple[str, ...]:
        return tuple(sorted(m for s in self.subregions for m in s.municipalities))

    @property
    def subregion_ids(self) -> tuple[str, ...]:
        """The subregion ids in the order of projects.yaml."""
        return tuple(s.id for s in self.subregions)

    def subregion(self, subregion_id: str) -> Subregion:
        for subregion in self.subregions:
            if subregion.id == subregion_id:
                return subregion
        raise KeyError(subregion_id)

    def subregion_of(self, municipality: str) -> Subregion:
        """The subregion of a municipality (its canonical name)."""
        for subregion in self.subregions:
            if municipality in subregion.municipalities:
                return subregion
        raise KeyError(municipality)

    def canonical_municipality(self, name: str) -> str | None:
        """The canonical spelling of a municipality typed by a person, or None if unknown.

        Case, surrounding spaces and the hyphen in Knokke-Heist are forgiven.
        """
        wanted = _fold(name)
        for municipality in self.municipalities:
            if _fold(municipality) == wanted:
                return municipality
        return None


def _fold(name: str) -> str:
    return " ".join(name.replace("-", " ").split()).casefold()


def load_region(projects_file: Path) -> Region:
    """Read the ``region`` section of projects.yaml."""
    # The strict loader: a broken date elsewhere in the file is a YAML error, not a traceback.
    text = read_editor_text(projects_file, str(projects_file))
    try:
        data = load_plain(text)
        region = data["region"]
        return Region(
            name=str(region["name"]),
            subregions=tuple(
                Subregion(
                    id=str(s["id"]),
                    name=str(s["name"]),
                    digibank=str(s["digibank"]),
                    contact_email=str(s["contact_email"]),
                    municipalities=tuple(str(m) for m in s["municipalities"]),
                )
                for s in region["subregions"]
            ),
        )
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise ContentError(f"region section is malformed ({exc})", path=str(projects_file),
                           field="region") from exc
