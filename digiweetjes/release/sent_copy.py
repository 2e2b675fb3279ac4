"""What a campaign sends, stored with it when its audience is frozen.

``html`` and ``text`` are the mail's two parts exactly as compiled, with the non-personal values
in the placeholders (``CompiledIssue.web_version``: "Beste lezer,", every Digibank, the general
unsubscribe and preferences pages): what every recipient got, less their own name and links.
``web_html`` is the archive's page of the issue rendered at the same moment from the same
content; the archive publishes that page, so it shows what was sent even if the draft changes
afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from digiweetjes.config import Settings
from digiweetjes.content.drafts import Draft
from digiweetjes.errors import DigiweetjesError, ReleaseError
from digiweetjes.release.approval import compile_current, content_hash
from digiweetjes.render import CompiledIssue


@dataclass(frozen=True)
class SentCopy:
    html: str
    text: str
    web_html: str | None


def sent_copy(settings: Settings, draft: Draft, compiled: CompiledIssue) -> SentCopy:
    """The copy of ``compiled`` to store; ReleaseError if the files changed since it was
    compiled (the archive page would then show other content than the mail)."""
    from digiweetjes.site.archive import render_issue_page

    message = compiled.web_version(settings)
    try:
        source, again = compile_current(settings, str(draft.path))
    except DigiweetjesError as exc:
        raise ReleaseError(f"{draft.display_path} kan niet opnieuw gelezen worden: {exc}; er "
                           "werd niets verstuurd") from exc
    if content_hash(again) != content_hash(compiled):
        raise ReleaseError(f"{draft.display_path} werd gewijzigd terwijl het verstuurd werd: "
                           "er werd niets verstuurd; keur opnieuw goed")
    return SentCopy(message.html, message.text, render_issue_page(source, settings))
