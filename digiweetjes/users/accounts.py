"""User accounts: add, list, remove, reset a password, and the user behind a session.

Every change is written to the audit log in the same transaction, with the actor that made it
(a user's name, or "cli"). Names are compared in lower case. A removed user keeps its row, with
no password hash, so its id is never reused while an old session cookie still names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from digiweetjes.clock import Clock
from digiweetjes.errors import UserError
from digiweetjes.models import Role, User
from digiweetjes.users.audit import record_audit
from digiweetjes.users.passwords import hash_password

NAME_PATTERN = re.compile(r"[a-z0-9._-]{1,60}")
NAME_RULE = "1 tot 60 tekens: letters, cijfers, punt, koppelteken of liggend streepje"


@dataclass(frozen=True)
class AdminUser:
    """A logged-in (or listed) user as the rest of the code sees it: never the hash."""

    id: int
    name: str
    role: Role

    def may(self, required: Role) -> bool:
        """Whether this user may do what ``required`` may."""
        return self.role.allows(required)


@dataclass(frozen=True)
class UserListing:
    """A line of ``users list``."""

    name: str
    role: Role
    created_at: datetime
    last_login_at: datetime | None


def normalize_name(name: str) -> str:
    """The stored form of a user name (lower case); UserError (Dutch) if it is not valid."""
    cleaned = name.strip().lower()
    if not NAME_PATTERN.fullmatch(cleaned):
        raise UserError(f"Ongeldige gebruikersnaam {name.strip()[:60]!r}: {NAME_RULE}.")
    return cleaned


def parse_role(value: str) -> Role:
    """``Role`` from its name; UserError (Dutch) otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise UserError(f"Onbekende rol {value!r}: kies editor of admin.") from None


def _public(user: User) -> AdminUser:
    return AdminUser(id=user.id, name=user.name, role=Role(user.role))


def _find(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == normalize_name(name)))


def _existing(session: Session, name: str) -> User:
    user = _find(session, name)
    if user is None or user.removed_at is not None:
        raise UserError(f"Er is geen gebruiker met de naam {normalize_name(name)!r}.")
    return user


def create_user(session: Session, clock: Clock, name: str, role: Role | str, password: str,
                *, actor: str) -> AdminUser:
    """Add a user; a removed user's name may be used again (a new password, a new epoch)."""
    stored = normalize_name(name)
    role = parse_role(str(role))
    password_hash = hash_password(password)
    now = clock.now()
    user = _find(session, stored)
    if user is not None and user.removed_at is None:
        raise UserError(f"Er is al een gebruiker met de naam {stored!r}.")
    if user is None:
        user = User(name=stored, session_epoch=0, created_at=now)
        session.add(user)
    else:  # back from removal: its old sessions stay dead
        user.session_epoch += 1
        user.removed_at = None
        user.created_at = now
        user.last_login_at = None
    user.role = role.value
    user.password_hash = password_hash
    user.password_changed_at = now
    session.flush()
    record_audit(session, clock, actor, "user.add", f"{stored} ({role.value})")
    return _public(user)


def list_users(session: Session) -> list[UserListing]:
    """The users that were not removed, by name."""
    users = session.scalars(select(User).where(User.removed_at.is_(None)).order_by(User.name))
    return [UserListing(name=u.name, role=Role(u.role), created_at=u.created_at,
                        last_login_at=u.last_login_at) for u in users]


def remove_user(session: Session, clock: Clock, name: str, *, actor: str) -> None:
    """Remove a user: no login any more, and every session of theirs ends."""
    user = _existing(session, name)
    user.removed_at = clock.now()
    user.password_hash = ""
    user.session_epoch += 1
    record_audit(session, clock, actor, "user.remove", user.name)


def reset_password(session: Session, clock: Clock, name: str, password: str,
                   *, actor: str) -> None:
    """Give a user a new password; every session of theirs ends."""
    user = _existing(session, name)
    user.password_hash = hash_password(password)
    user.password_changed_at = clock.now()
    user.session_epoch += 1
    record_audit(session, clock, actor, "user.reset-password", user.name)


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of a user (logging out ends them on every device: a signed cookie
    copied before the logout must not stay valid)."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_epoch += 1


def session_user(session: Session, user_id: int, epoch: int) -> AdminUser | None:
    """The user a session names, if it still exists under the same epoch; else None."""
    user = session.get(User, user_id)
    if user is None or user.removed_at is not None or user.session_epoch != epoch:
        return None
    return _public(user)
