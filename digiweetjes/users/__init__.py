"""The people who use the admin pages: accounts, passwords, logins with lock-out, audit log.

No HTTP here: the CLI (``digiweetjes users ...``) and the web app (``web.admin``) call these.

- ``accounts``: ``create_user``, ``list_users``, ``remove_user``, ``reset_password``,
  ``session_user`` (the user behind a session, if its epoch still holds), ``end_sessions``,
  ``AdminUser``;
- ``login``: ``authenticate`` with the per-account and per-IP lock-outs;
- ``passwords``: argon2id hashing (argon2-cffi), the length rules;
- ``audit``: ``record_audit`` (one row per action, in the action's transaction), ``recent_audit``.
"""

from __future__ import annotations

from digiweetjes.models import Role
from digiweetjes.users.accounts import (
    AdminUser,
    UserListing,
    create_user,
    end_sessions,
    list_users,
    normalize_name,
    parse_role,
    remove_user,
    reset_password,
    session_user,
)
from digiweetjes.users.audit import CLI_ACTOR, recent_audit, record_audit
from digiweetjes.users.login import LoginAttempt, authenticate, locked_minutes

__all__ = [
    "CLI_ACTOR",
    "AdminUser",
    "LoginAttempt",
    "Role",
    "UserListing",
    "authenticate",
    "create_user",
    "end_sessions",
    "list_users",
    "locked_minutes",
    "normalize_name",
    "parse_role",
    "recent_audit",
    "record_audit",
    "remove_user",
    "reset_password",
    "session_user",
]
