"""Helpers for the admin pages' tests: users, a logged-in client, CSRF tokens of forms."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from digiweetjes.clock import Clock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.models import Role
from digiweetjes.providers.base import Provider
from digiweetjes.users import AdminUser, create_user
from tests.web_support import web_client

#: The site is https (the cookies are Secure): the client must speak https to get them back.
BASE = "https://testserver"
PASSWORD = "correct-horse-battery-staple"
LOGIN = "/beheer/aanmelden"
LOGOUT = "/beheer/afmelden"


def make_user(db: Database, settings: Settings, clock: Clock, name: str,
              role: Role | str = Role.EDITOR, password: str = PASSWORD) -> AdminUser:
    """A user in the database (as ``digiweetjes users add`` makes one)."""
    with db.session(write=True) as session:
        return create_user(session, clock, name, role, password, actor="test")


def csrf_field(html: str) -> str:
    """The hidden csrftoken of a page's (first) form."""
    match = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert match, "no csrftoken field on the page"
    return match.group(1)


def form(client: TestClient, path: str) -> str:
    """GET ``path`` (the client then holds the CSRF cookie) and return its form's token."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return csrf_field(page.text)


def log_in(client: TestClient, name: str, password: str = PASSWORD,
           next_path: str | None = None):
    """POST the login form as a browser would (GET it first for the token)."""
    data = {"csrftoken": form(client, LOGIN), "naam": name, "wachtwoord": password}
    if next_path is not None:
        data["volgende"] = next_path
    return client.post(LOGIN, data=data)


def log_out(client: TestClient):
    """POST the logout button of the overview."""
    return client.post(LOGOUT, data={"csrftoken": form(client, "/beheer")})


def anonymous_client(settings: Settings, db: Database, clock: Clock, *,
                     provider: Provider | None = None) -> TestClient:
    """A TestClient on https, keeping cookies like a browser; nobody logged in."""
    return web_client(settings, db, clock, provider=provider, base_url=BASE)


def admin_client(settings: Settings, db: Database, clock: Clock, role: Role | str = Role.ADMIN,
                 *, name: str | None = None, provider: Provider | None = None) -> TestClient:
    """A TestClient logged in as a new user with ``role`` (named after it unless ``name``).

    ``client.csrftoken`` is a valid token for its forms; ``client.user`` the AdminUser.
    """
    role = Role(role)
    user = make_user(db, settings, clock, name or f"test-{role.value}", role)
    client = anonymous_client(settings, db, clock, provider=provider)
    answer = log_in(client, user.name)
    assert answer.status_code == 303, answer.text
    client.csrftoken = form(client, "/beheer")  # type: ignore[attr-defined]
    client.user = user  # type: ignore[attr-defined]
    return client
