"""The people who use the admin pages, their failed logins, and the audit log.

Users are staff (editors and admins), not subscribers. A removed user keeps its row (no
password hash, ``removed_at`` set) so that an id is never given to someone else while an old
session cookie still names it; ``session_epoch`` goes up on every password reset and removal,
and a session made under an older epoch is no longer accepted. Failed logins are rows (counted
in the database, so every web process sees the same count), keyed by the account name as typed
(an unknown name is locked out exactly like a known one, so a lock-out tells nothing) or by the
keyed hash of the IP address. The audit log is append-only: who did what, when.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digiweetjes.db import Base
from digiweetjes.models.subscribers import UTCDateTime, enum_check


class Role(StrEnum):
    """What a user may do; an admin may do everything an editor may."""

    EDITOR = "editor"
    ADMIN = "admin"

    def allows(self, required: Role) -> bool:
        """Whether this role may do what ``required`` may."""
        return self is Role.ADMIN or self is required


class LockScope(StrEnum):
    """What a failed login is counted against."""

    ACCOUNT = "account"
    IP = "ip"


class User(Base):
    """An editor or admin of the web pages (see the module docstring)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(enum_check("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Lower case: names are compared without regard to case.
    name: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(10), nullable=False)
    #: argon2id in PHC form; empty once the user is removed.
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never the hash
        return f"<User id={self.id} {self.name} {self.role}>"


class LoginFailure(Base):
    """One failed login, counted against an account name or an IP address hash."""

    __tablename__ = "login_failures"
    __table_args__ = (
        CheckConstraint(enum_check("scope", LockScope), name="scope"),
        Index("ix_login_failures_scope_key_failed_at", "scope", "key", "failed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10), nullable=False)
    #: The name as typed (lower case, cut to 60) or the IP address's keyed hash.
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class LoginLock(Base):
    """A lock-out in force (or past) for an account name or an IP address hash."""

    __tablename__ = "login_locks"
    __table_args__ = (CheckConstraint(enum_check("scope", LockScope), name="scope"),)

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class AuditEvent(Base):
    """One action of a user or of the command line: who, what, when (append-only)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: The user's name, or "cli" for the command line; text, so it outlives the user.
    actor: Mapped[str] = mapped_column(String(60), nullable=False)
    #: A short fixed name of the action ("login", "subscriber.erase", ...).
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    #: What it was about, for a person reading the log; never an address or a secret.
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")

    def __repr__(self) -> str:
        return f"<AuditEvent id={self.id} {self.actor} {self.action}>"
