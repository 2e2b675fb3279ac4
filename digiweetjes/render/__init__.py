"""Compile: an issue rendered once, its per-recipient values filled in cheaply, the release gate.

``compile_issue`` turns what ``content`` read into a ``CompiledIssue`` (Markdown → Jinja → MJML
→ HTML, and a text part) with placeholders where each recipient's own values go; it does no
I/O but reading templates. ``personalize`` (and, on the send path, ``CompiledIssue.values_for``
with ``FillableTemplate.fill``) fills them. The modules:

- ``issue``: ``compile_issue``, ``CompiledIssue``, ``personalize``;
- ``placeholders``: the markers content cannot forge, and ``FillableTemplate``;
- ``templating``: the Jinja environments; ``formatting``: nl-BE dates and amounts;
- ``gate``: the release gate behind ``digiweetjes check``.

The names below are loaded from ``issue`` on first use: ``content`` reads the placeholder
markers from this package, and ``issue`` reads ``content``, so an eager import would be a cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "GMAIL_CLIP_BYTES",
    "PLACEHOLDERS",
    "CompiledIssue",
    "PersonalizedMessage",
    "RecipientData",
    "compile_issue",
    "issue_context",
    "mjml_to_html",
    "personalize",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from digiweetjes.render import issue

        return getattr(issue, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
