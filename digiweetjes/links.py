"""Every public URL, built in one place: the web archive, the web app's pages, mail links.

The static archive writes its files at the paths named here (``issue_page``,
``PROJECTS_PAGE``), so the site build and the links in emails cannot disagree.
"""

from __future__ import annotations

from digiweetjes.config import Settings

#: The overview of the project calls, relative to the site root.
PROJECTS_PAGE = "projectoproepen.html"
#: The site's logo (a PNG: mail clients show no SVG), at the site root like the favicons.
LOGO_IMAGE = "logo.png"


def issue_page(issue_id: str) -> str:
    """The archive page of an issue, relative to the site root."""
    return f"archief/{issue_id}.html"


def archive_url(settings: Settings) -> str:
    """The web archive's front page: every published issue."""
    return f"{settings.base_url}/"


def web_url(settings: Settings, issue_id: str) -> str:
    """An issue's page in the web archive (the 'web version' link of its email)."""
    return f"{settings.base_url}/{issue_page(issue_id)}"


def projects_url(settings: Settings) -> str:
    """The overview page of the project calls."""
    return f"{settings.base_url}/{PROJECTS_PAGE}"


def logo_url(settings: Settings) -> str:
    """The logo as an absolute URL: emails and Open Graph cards load it from the site."""
    return f"{settings.base_url}/{LOGO_IMAGE}"


def subscribe_url(settings: Settings) -> str:
    """The subscribe form of the web app."""
    return f"{settings.base_url}/inschrijven"


def privacy_url(settings: Settings) -> str:
    """The privacy notice."""
    return f"{settings.base_url}/privacy"


def confirm_url(settings: Settings, token: str) -> str:
    """The page that confirms a subscription (double opt-in)."""
    return f"{settings.base_url}/bevestigen/{token}"


def preferences_url(settings: Settings, token: str | None = None) -> str:
    """The page where a subscriber changes name, municipality and topics.

    Without a token, the page itself: what the web version and test mails link to.
    """
    page = f"{settings.base_url}/voorkeuren"
    return page if token is None else f"{page}/{token}"


def unsubscribe_url(settings: Settings, token: str | None = None) -> str:
    """The one-click unsubscribe page (also the List-Unsubscribe https target).

    Without a token, the page itself: what the web version and test mails link to.
    """
    page = f"{settings.base_url}/uitschrijven"
    return page if token is None else f"{page}/{token}"
