"""The URL policy for everything editors write: links https:// or mailto:, images https://.

Drafts (Markdown links, images, raw HTML) and the data files (``projects.yaml``) share it, so a
``javascript:``, ``data:`` or ``http:`` URL is refused wherever it is written.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

#: The policy in words, for messages.
URL_POLICY = "moet een https://-adres of een mailto:-adres zijn (geen javascript:, data: of http:)"


def allowed_url(url: str, *, allow_mailto: bool) -> bool:
    """Whether ``url`` is an https:// URL (or, if allowed, a mailto: address)."""
    lowered = url.strip().lower()
    if lowered.startswith("https://") and len(lowered) > len("https://"):
        return True
    return allow_mailto and lowered.startswith("mailto:") and "@" in lowered


def _link_url(value: str) -> str:
    if not allowed_url(value, allow_mailto=True):
        raise ValueError(f"'{value}' {URL_POLICY}")
    return value


#: A link target in an editor's data file (pydantic type): https:// or mailto:, checked.
LinkUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1),
                    AfterValidator(_link_url)]
