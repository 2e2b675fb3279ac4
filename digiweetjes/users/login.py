"""Logging in: the password check and the lock-outs.

Per account name (known or not, so a lock-out tells nothing about which names exist): 5 failed
logins within 15 minutes lock it for 15 minutes. Per IP address (its keyed hash): 20 failures
within 15 minutes lock every login from it for 15 minutes. Failures and locks are rows, so every
web process counts the same. While locked, the password is not even checked (a right one does
not get in). Failures from before a lock ended do not count towards the next one.

``authenticate`` returns its outcome instead of raising: a refused login must still commit the
failure it counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digiweetjes.errors import LoginRefused
from digiweetjes.models import LockScope, LoginFailure, LoginLock, Role, User
from digiweetjes.users.accounts import NAME_PATTERN, AdminUser
from digiweetjes.users.passwords import dummy_hash, hash_password, needs_rehash, verify

WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
LIMITS = {LockScope.ACCOUNT: 5, LockScope.IP: 20}
#: Failures older than this are deleted as new ones come in (the table stays small).
KEEP_FAILURES = timedelta(days=1)

WRONG = "Naam of wachtwoord klopt niet"


def locked_message(minutes: int) -> str:
    """The Dutch refusal while locked out."""
    unit = "minuut" if minutes == 1 else "minuten"
    return f"Te veel mislukte pogingen; probeer het over {minutes} {unit} opnieuw"


@dataclass(frozen=True)
class LoginAttempt:
    """What a login attempt came to: the user, or the refusal (and whether it began a lock)."""

    user: AdminUser | None
    refused: LoginRefused | None = None
    #: The scopes this attempt locked (for the audit log).
    locked_now: tuple[LockScope, ...] = ()
    #: The user's session epoch, for the session this login starts.
    epoch: int = 0


def account_key(name: str) -> str:
    """What failures are counted against for a name as typed (valid or not)."""
    return name.strip().lower()[:60]


def _keys(name: str, ip_hash: str | None) -> list[tuple[LockScope, str]]:
    keys = [(LockScope.ACCOUNT, account_key(name))]
    if ip_hash:
        keys.append((LockScope.IP, ip_hash[:64]))
    return keys


def _lock_of(session: Session, scope: LockScope, key: str) -> datetime | None:
    return session.scalar(select(LoginLock.locked_until).where(
        LoginLock.scope == scope.value, LoginLock.key == key))


def locked_minutes(session: Session, name: str, ip_hash: str | None,
                   now: datetime) -> int | None:
    """Minutes (rounded up) until a login for this name from this IP may be tried, or None."""
    remaining = [until - now for scope, key in _keys(name, ip_hash)
                 if (until := _lock_of(session, scope, key)) is not None and until > now]
    if not remaining:
        return None
    return max(1, math.ceil(max(remaining).total_seconds() / 60))


def _set_lock(session: Session, scope: LockScope, key: str, until: datetime) -> None:
    # An upsert: two processes locking the same key at once must not collide on the key.
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(LoginLock).values(scope=scope.value, key=key, locked_until=until)
    session.execute(statement.on_conflict_do_update(
        index_elements=["scope", "key"], set_={"locked_until": until}))


def _count_failure(session: Session, keys: list[tuple[LockScope, str]],
                   now: datetime) -> tuple[LockScope, ...]:
    """Record a failure against each key; lock those now over their limit."""
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - KEEP_FAILURES))
    locked: list[LockScope] = []
    for scope, key in keys:
        session.add(LoginFailure(scope=scope.value, key=key, failed_at=now))
        session.flush()
        since = now - WINDOW
        previous = _lock_of(session, scope, key)
        if previous is not None and previous > since:
            since = previous
        count = session.scalar(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.scope == scope.value, LoginFailure.key == key,
            LoginFailure.failed_at >= since)) or 0
        if count >= LIMITS[scope]:
            _set_lock(session, scope, key, now + LOCK)
            locked.append(scope)
    return tuple(locked)


def authenticate(session: Session, name: str, password: str, *, ip_hash: str | None,
                 now: datetime) -> LoginAttempt:
    """Check a login; the failure counts and locks are written in ``session`` (commit it)."""
    keys = _keys(name, ip_hash)
    waiting = locked_minutes(session, name, ip_hash, now)
    if waiting is not None:
        return LoginAttempt(None, LoginRefused(locked_message(waiting), locked_minutes=waiting))
    stored = account_key(name)
    user = None
    if NAME_PATTERN.fullmatch(stored):
        user = session.scalar(select(User).where(User.name == stored,
                                                 User.removed_at.is_(None)))
    # Unknown names are checked against a dummy hash: the same work, the same time.
    matched = verify(user.password_hash if user else dummy_hash(), password)
    if user is None or not matched:
        locked = _count_failure(session, keys, now)
        if locked:
            minutes = math.ceil(LOCK.total_seconds() / 60)
            refusal = LoginRefused(locked_message(minutes), locked_minutes=minutes)
            return LoginAttempt(None, refusal, locked)
        return LoginAttempt(None, LoginRefused(WRONG))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    # A good login forgives the account's earlier slips (not the IP address's).
    session.execute(delete(LoginFailure).where(LoginFailure.scope == LockScope.ACCOUNT.value,
                                               LoginFailure.key == stored))
    return LoginAttempt(AdminUser(id=user.id, name=user.name, role=Role(user.role)),
                        epoch=user.session_epoch)
