"""Editors' content: drafts (front matter + Markdown) and the project-status data.

The rest of the code reads the issues folder only through ``content.source`` (``read_issue``,
``read_all_issues``); the modules beside it parse and validate one file each.
"""

from __future__ import annotations

from pathlib import Path

from digiweetjes.errors import ContentError
from digiweetjes.files import os_reason
from digiweetjes.render.placeholders import strip_marker_chars


def display_path(path: Path) -> str:
    """A path as an editor recognises it: relative to the working folder where possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_editor_text(path: Path, display: str) -> str:
    """An editor's file as text with Unix line ends, no BOM and no placeholder markers."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContentError(f"kan niet gelezen worden: {os_reason(exc)}", path=display) from exc
    try:
        # utf-8-sig: an editor on Windows may save a byte-order mark before the '---'.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ContentError("is geen UTF-8-tekst: sla het bestand op als UTF-8", path=display,
                           line=line) from exc
    # Only the marker characters: removing MRML's ASCII escape spelling here could cut a YAML
    # escape in two. Every decoding step (YAML, Markdown, nh3) strips both spellings after it.
    return strip_marker_chars(text.replace("\r\n", "\n"))


def peek_text(path: Path) -> str:
    """A file's text for a quick look (number, status): never fails, bad bytes replaced."""
    try:
        return path.read_bytes().decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    except OSError:
        return ""
