"""Editors' content: drafts (front matter + Markdown) and the project-status data.

The rest of the code reads the issues folder only through ``content.source`` (``read_issue``,
``read_all_issues``); the modules beside it parse and validate one file each.
"""

from __future__ import annotations

from pathlib import Path

from digiweetjes.errors import ContentError
from digiweetjes.render.placeholders import strip_markers


def display_path(path: Path) -> str:
    """A path as an editor recognises it: relative to the working folder where possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_editor_text(path: Path, display: str) -> str:
    """An editor's file as text with Unix line ends and no placeholder markers."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContentError(f"cannot read: {exc.strerror}", path=display) from exc
    except UnicodeDecodeError as exc:
        raise ContentError("is not UTF-8 text", path=display) from exc
    return strip_markers(text.replace("\r\n", "\n"))
