"""Editors' content: drafts (front matter + Markdown) and the project-status data."""

from __future__ import annotations

from pathlib import Path


def display_path(path: Path) -> str:
    """A path as an editor recognises it: relative to the working folder where possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
