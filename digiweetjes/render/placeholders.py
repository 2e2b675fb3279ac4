"""Per-recipient placeholders in compiled content, and filling them cheaply.

A compiled issue carries markers ``\\ue000name\\ue001`` where a recipient's own value goes. The
markers are Unicode private-use characters, which the content pipeline strips from editors' input,
so content can never forge one. ``FillableTemplate`` splits the text once; filling is then a
single join, which keeps per-recipient cost at a few microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

PLACEHOLDER_OPEN = "\ue000"
PLACEHOLDER_CLOSE = "\ue001"
_MARKER = re.compile("\ue000([a-z_][a-z0-9_]*)\ue001")
# MRML writes the markers inside attribute values in Rust's debug escape form; such spellings
# in input are stripped too, so they cannot be turned into markers after MJML.
_ANY_MARKER_CHAR = re.compile(r"[\ue000\ue001]|\\u\{e00[01]\}", re.IGNORECASE)
_RUST_ESCAPED = {"\\u{e000}": PLACEHOLDER_OPEN, "\\u{e001}": PLACEHOLDER_CLOSE}


def unescape_rust_markers(text: str) -> str:
    """Turn MRML's ``\\u{e000}`` attribute escapes back into marker characters."""
    for escaped, marker in _RUST_ESCAPED.items():
        text = text.replace(escaped, marker)
    return text


def placeholder(name: str) -> str:
    """The marker for placeholder ``name``."""
    return f"{PLACEHOLDER_OPEN}{name}{PLACEHOLDER_CLOSE}"


def strip_markers(text: str) -> str:
    """Remove marker characters from untrusted input, so it cannot forge a placeholder."""
    return _ANY_MARKER_CHAR.sub("", text)


@dataclass(frozen=True)
class FillableTemplate:
    """A text split at its placeholders: ``parts`` alternate literal, name, literal, ..."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> FillableTemplate:
        return cls(tuple(_MARKER.split(text)))

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.parts[1::2])

    @property
    def source(self) -> str:
        """The text with its markers, as it was parsed."""
        return self.render_markers(placeholder)

    def fill(self, values: Mapping[str, str]) -> str:
        """The text with every placeholder replaced by its (already escaped) value."""
        parts = list(self.parts)
        parts[1::2] = [values[name] for name in self.parts[1::2]]
        return "".join(parts)

    def render_markers(self, marker: Callable[[str], str]) -> str:
        """The text with each placeholder written by ``marker(name)``: a provider's own syntax."""
        parts = list(self.parts)
        parts[1::2] = [marker(name) for name in self.parts[1::2]]
        return "".join(parts)
