"""Per-recipient placeholders in compiled content, and filling them cheaply.

A compiled issue carries markers where a recipient's own value goes. Content cannot forge one,
by construction: each compile draws its own ``Markers`` (a random nonce inside every marker,
``\\ue000<nonce>name\\ue001``), the templates write placeholders only through it, and
``FillableTemplate.parse`` recognises only that compile's markers. Whatever marker-like text
content smuggles past the decoders (character references, YAML escapes, MRML's escapes) is not
recognised and is removed from the literal text at parse time. Editors' input is stripped of
marker characters as well, after every decoding step, so nothing of the kind reaches a mail.

``placeholder(name)`` is the nonce-less spelling ``\\ue000name\\ue001``: the form a parsed
template's ``source`` is written in, which provider adapters and the transactional mails use.
``FillableTemplate`` splits the text once; filling is then a single join, which keeps
per-recipient cost at a few microseconds.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

PLACEHOLDER_OPEN = "\ue000"
PLACEHOLDER_CLOSE = "\ue001"
_NAME = "([a-z_][a-z0-9_]*)"
_MARKER = re.compile(f"{PLACEHOLDER_OPEN}{_NAME}{PLACEHOLDER_CLOSE}")
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
    """The nonce-less marker for placeholder ``name`` (the spelling of ``source``)."""
    return f"{PLACEHOLDER_OPEN}{name}{PLACEHOLDER_CLOSE}"


def strip_markers(text: str) -> str:
    """Remove marker characters from untrusted input, so it cannot forge a placeholder."""
    if "\ue000" in text or "\ue001" in text or "\\" in text:
        return _ANY_MARKER_CHAR.sub("", text)
    return text


def strip_marker_chars(text: str) -> str:
    """Remove the marker characters only (not MRML's ASCII spelling of them)."""
    return text.replace(PLACEHOLDER_OPEN, "").replace(PLACEHOLDER_CLOSE, "")


def has_marker(text: str) -> bool:
    """Whether ``text`` holds a marker character or MRML's escape of one."""
    return _ANY_MARKER_CHAR.search(text) is not None


@dataclass(frozen=True)
class Markers:
    """The placeholder markers of one compile; ``Markers.fresh()`` draws an unguessable nonce.

    Call it as ``markers(name)`` (the templates' ``placeholder``); give it to
    ``FillableTemplate.parse`` to split the rendered text at this compile's markers only.
    """

    nonce: str = ""
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]*", self.nonce):
            raise ValueError("a marker nonce is lower-case hex")
        pattern = _MARKER if not self.nonce else re.compile(
            f"{PLACEHOLDER_OPEN}{self.nonce}{_NAME}{PLACEHOLDER_CLOSE}")
        object.__setattr__(self, "pattern", pattern)

    @classmethod
    def fresh(cls) -> Markers:
        """Markers with a new random nonce: content written before the compile cannot hold it."""
        return cls(secrets.token_hex(12))

    def __call__(self, name: str) -> str:
        return f"{PLACEHOLDER_OPEN}{self.nonce}{name}{PLACEHOLDER_CLOSE}"


_PLAIN = Markers()


@dataclass(frozen=True)
class FillableTemplate:
    """A text split at its placeholders: ``parts`` alternate literal, name, literal, ..."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, markers: Markers = _PLAIN) -> FillableTemplate:
        """Split ``text`` at ``markers``' placeholders; stray marker characters are dropped."""
        parts = markers.pattern.split(text)
        # Anything marker-like left in the literal text is not one of this compile's markers:
        # it came from content (or a template's mistake) and must never become a placeholder.
        parts[0::2] = [strip_markers(literal) for literal in parts[0::2]]
        return cls(tuple(parts))

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.parts[1::2])

    @property
    def source(self) -> str:
        """The text with its markers in the nonce-less spelling (``placeholder``)."""
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
