"""Users of the admin pages: argon2id hashes, names and passwords, lock-out per account and per
IP address (counted in the database), session epochs, the audit log, and the CLI."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select

from digiweetjes.cli import cli
from digiweetjes.db import Database
from digiweetjes.errors import UserError
from digiweetjes.models import AuditEvent, LoginFailure, Role, User
from digiweetjes.users import (
    authenticate,
    list_users,
    remove_user,
    reset_password,
    session_user,
)
from digiweetjes.users import login as login_module
from digiweetjes.users.login import WRONG, locked_message
from digiweetjes.users.passwords import dummy_hash, needs_rehash
from tests.admin_support import PASSWORD, make_user
from tests.cli_support import cli_env, run

IP = "a" * 64
OTHER_IP = "b" * 64


def _login(db: Database, clock, name: str, password: str = PASSWORD, ip: str | None = IP):
    with db.session(write=True) as session:
        return authenticate(session, name, password, ip_hash=ip, now=clock.now())


def _stored(db: Database, name: str) -> User:
    with db.session() as session:
        user = session.scalar(select(User).where(User.name == name))
        assert user is not None
        return user


def _audit(db: Database) -> list[tuple[str, str, str]]:
    with db.session() as session:
        return [(e.actor, e.action, e.detail)
                for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


# ---------------------------------------------------------------- accounts and passwords

def test_a_password_is_stored_as_an_argon2id_hash_and_checked(db, settings, clock) -> None:
    make_user(db, settings, clock, "An.Peeters", Role.ADMIN)
    stored = _stored(db, "an.peeters")  # names are kept in lower case
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash and PASSWORD not in repr(stored)
    attempt = _login(db, clock, "AN.PEETERS")
    assert attempt.user is not None and attempt.user.role is Role.ADMIN
    assert _login(db, clock, "an.peeters", PASSWORD + "x").user is None


def test_a_hash_made_with_older_parameters_is_replaced_at_login(db, settings, clock) -> None:
    make_user(db, settings, clock, "bert")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with db.session(write=True) as session:
        session.scalar(select(User).where(User.name == "bert")).password_hash = weak
    assert needs_rehash(weak)
    assert _login(db, clock, "bert").user is not None
    renewed = _stored(db, "bert").password_hash
    assert renewed != weak and not needs_rehash(renewed)
    assert _login(db, clock, "bert").user is not None


@pytest.mark.parametrize("name", ["", "   ", "an peeters", "x" * 61, "anaïs", "a/b", "<b>"])
def test_names_outside_the_rule_are_refused(db, settings, clock, name) -> None:
    with pytest.raises(UserError, match="Ongeldige gebruikersnaam"):
        make_user(db, settings, clock, name)


def test_passwords_under_twelve_characters_and_taken_names_are_refused(db, settings,
                                                                          clock) -> None:
    with pytest.raises(UserError, match="minstens 12 tekens"):
        make_user(db, settings, clock, "carla", password="elf-tekens!")
    make_user(db, settings, clock, "carla", password="twaalf-tekens")
    with pytest.raises(UserError, match="Er is al een gebruiker"):
        make_user(db, settings, clock, "Carla", Role.ADMIN)
    with pytest.raises(UserError, match="Onbekende rol"):
        make_user(db, settings, clock, "dirk", "superuser")
    with db.session() as session:
        assert [(u.name, u.role) for u in list_users(session)] == [("carla", Role.EDITOR)]


def test_reset_and_remove_end_the_sessions_and_are_audited(db, settings, clock) -> None:
    user = make_user(db, settings, clock, "eva", Role.ADMIN)
    epoch = _login(db, clock, "eva").epoch
    with db.session() as session:
        assert session_user(session, user.id, epoch) == user
    with db.session(write=True) as session:
        reset_password(session, clock, "eva", "een-nieuw-wachtwoord", actor="cli")
    assert _login(db, clock, "eva").user is None
    new_epoch = _login(db, clock, "eva", "een-nieuw-wachtwoord").epoch
    assert new_epoch == epoch + 1
    with db.session() as session:
        assert session_user(session, user.id, epoch) is None
        assert session_user(session, user.id, new_epoch) == user
    with db.session(write=True) as session:
        remove_user(session, clock, "eva", actor="cli")
    with db.session() as session:
        assert session_user(session, user.id, new_epoch) is None
        assert session_user(session, user.id, new_epoch + 1) is None  # removed is removed
        assert list_users(session) == []
    assert _login(db, clock, "eva", "een-nieuw-wachtwoord").user is None
    # The name may be used again: a new password, and the old sessions stay dead.
    again = make_user(db, settings, clock, "eva")
    assert again.id == user.id and again.role is Role.EDITOR
    with db.session() as session:
        assert session_user(session, user.id, new_epoch) is None
    assert [row[:2] for row in _audit(db)] == [
        ("test", "user.add"), ("cli", "user.reset-password"), ("cli", "user.remove"),
        ("test", "user.add")]
    with pytest.raises(UserError, match="geen gebruiker"), db.session(write=True) as session:
        remove_user(session, clock, "nobody", actor="cli")


# ---------------------------------------------------------------- lock-out

def test_an_unknown_name_is_checked_against_a_dummy_hash(db, settings, clock,
                                                        monkeypatch) -> None:
    make_user(db, settings, clock, "fien")
    checked: list[str] = []
    real = login_module.verify

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(login_module, "verify", spy)
    unknown = _login(db, clock, "niemand")
    wrong = _login(db, clock, "fien", "not-the-password")
    assert checked == [dummy_hash(), _stored(db, "fien").password_hash]
    assert str(unknown.refused) == str(wrong.refused) == WRONG


def test_five_failures_in_fifteen_minutes_lock_the_account_for_fifteen(db, settings,
                                                                      clock) -> None:
    make_user(db, settings, clock, "gert")
    for _ in range(4):
        attempt = _login(db, clock, "gert", "wrong-password", ip=None)
        assert str(attempt.refused) == WRONG
        clock.advance(minutes=3)
    fifth = _login(db, clock, "gert", "wrong-password", ip=None)
    assert fifth.refused is not None and fifth.refused.locked_minutes == 15
    assert str(fifth.refused) == locked_message(15)
    assert str(fifth.refused) == "Te veel mislukte pogingen; probeer het over 15 minuten opnieuw"
    # Locked: the right password does not get in, and the wait shrinks with the clock.
    clock.advance(minutes=14, seconds=30)
    right = _login(db, clock, "gert", ip=None)
    assert right.user is None and str(right.refused) == locked_message(1)
    assert "over 1 minuut" in locked_message(1)
    clock.advance(seconds=31)
    assert _login(db, clock, "gert", ip=None).user is not None
    # Failures from before the lock ended do not count towards the next one.
    assert str(_login(db, clock, "gert", "wrong-password", ip=None).refused) == WRONG


def test_failures_spread_over_more_than_the_window_do_not_lock(db, settings, clock) -> None:
    make_user(db, settings, clock, "hilde")
    for _ in range(8):
        assert str(_login(db, clock, "hilde", "wrong-password").refused) == WRONG
        clock.advance(minutes=4)  # never 5 within 15 minutes
    assert _login(db, clock, "hilde").user is not None


def test_a_good_login_forgives_the_accounts_earlier_failures(db, settings, clock) -> None:
    make_user(db, settings, clock, "ilse")
    for _ in range(4):
        _login(db, clock, "ilse", "wrong-password")
    assert _login(db, clock, "ilse").user is not None
    for _ in range(4):
        assert str(_login(db, clock, "ilse", "wrong-password").refused) == WRONG
    assert _login(db, clock, "ilse").user is not None


def test_an_unknown_name_is_locked_out_just_like_a_known_one(db, clock) -> None:
    refusals = [str(_login(db, clock, "bestaat-niet", "wrong-password").refused)
                for _ in range(6)]
    assert refusals == [WRONG] * 4 + [locked_message(15)] * 2


def test_twenty_failures_from_one_ip_lock_every_login_from_it(db, settings, clock) -> None:
    make_user(db, settings, clock, "jan")
    for number in range(20):  # five names, four failures each: no account is locked
        _login(db, clock, f"gok{number % 5}", "wrong-password", ip=IP)
    assert _login(db, clock, "jan", ip=IP).refused.locked_minutes == 15
    # Another address is not locked; the account itself was never tried.
    assert _login(db, clock, "jan", ip=OTHER_IP).user is not None
    clock.advance(minutes=15, seconds=1)
    assert _login(db, clock, "jan", ip=IP).user is not None


def test_the_ip_limit_counts_failures_across_many_names(db, settings, clock) -> None:
    make_user(db, settings, clock, "karel")
    for number in range(19):  # 19 different names: no account reaches its limit
        attempt = _login(db, clock, f"naam{number}", "wrong-password", ip=IP)
        assert str(attempt.refused) == WRONG
    twentieth = _login(db, clock, "naam-20", "wrong-password", ip=IP)
    assert twentieth.refused.locked_minutes == 15
    assert twentieth.locked_now == (login_module.LockScope.IP,)
    assert _login(db, clock, "karel", ip=IP).user is None


def test_the_counts_are_shared_by_every_process_through_the_database(db, settings,
                                                                     clock) -> None:
    make_user(db, settings, clock, "lies")
    other = Database(db.url)  # another web worker on the same database
    try:
        for number in range(5):
            _login(db if number % 2 else other, clock, "lies", "wrong-password")
        assert _login(other, clock, "lies").refused.locked_minutes == 15
        assert _login(db, clock, "lies").refused.locked_minutes == 15
    finally:
        other.dispose()


def test_old_failures_are_cleaned_up(db, settings, clock) -> None:
    _login(db, clock, "mark", "wrong-password")
    clock.advance(days=2)
    _login(db, clock, "mark", "wrong-password")
    with db.session() as session:
        kept = list(session.scalars(select(LoginFailure.failed_at)))
    assert kept and all(clock.now() - at < timedelta(days=1) for at in kept)


# ---------------------------------------------------------------- the command line

def test_cli_add_list_reset_and_remove_in_dutch_with_the_audit_log(
        db, tmp_path, monkeypatch, capsys) -> None:
    cli_env(monkeypatch, tmp_path, db.url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = run(capsys, "users", "add", "Nora", "--role", "admin", "--password-stdin")
    assert (code, err) == (0, "")
    assert out == "Gebruiker nora toegevoegd als beheerder.\n"
    code, out, _err = run(capsys, "users", "list")
    assert code == 0 and "nora" in out and "beheerder" in out and "nog nooit" in out
    assert PASSWORD not in out

    monkeypatch.setattr("sys.stdin", io.StringIO("kort\n"))
    code, out, err = run(capsys, "users", "reset-password", "nora", "--password-stdin")
    assert code == 1 and "minstens 12 tekens" in err and "niets veranderd" in err

    runner = CliRunner()
    done = runner.invoke(cli, ["users", "reset-password", "nora"],
                         input="een-ander-wachtwoord\neen-ander-wachtwoord\n")
    assert done.exit_code == 0, done.output
    assert "Nieuw wachtwoord ingesteld voor nora" in done.output
    assert "een-ander-wachtwoord" not in done.output  # typed without echo
    mismatch = runner.invoke(cli, ["users", "reset-password", "nora"],
                             input="een-ander-wachtwoord\nnog-een-ander-wachtwoord\n")
    assert mismatch.exit_code == 1 and "niet gelijk" in mismatch.output

    declined = runner.invoke(cli, ["users", "remove", "nora"], input="n\n")
    assert declined.exit_code == 0 and "Niets veranderd" in declined.output
    agreed = runner.invoke(cli, ["users", "remove", "nora"], input="j\n")
    assert agreed.exit_code == 0 and "Gebruiker nora verwijderd" in agreed.output
    code, out, _err = run(capsys, "users", "list")
    assert "Er zijn nog geen gebruikers" in out
    code, _out, err = run(capsys, "users", "remove", "nora", "--yes")
    assert code == 1 and err.startswith("Fout: Er is geen gebruiker")
    assert [row[:2] for row in _audit(db)] == [
        ("cli", "user.add"), ("cli", "user.reset-password"), ("cli", "user.remove")]


def test_cli_refuses_a_bad_name_before_asking_for_a_password(db, tmp_path, monkeypatch,
                                                             capsys) -> None:
    cli_env(monkeypatch, tmp_path, db.url)
    done = CliRunner().invoke(cli, ["users", "add", "an peeters", "--role", "editor"])
    assert done.exit_code == 1
    assert "Ongeldige gebruikersnaam" in done.output and "Wachtwoord" not in done.output
    code, _out, err = run(capsys, "users", "add", "an", "--role", "chef")
    assert code != 0 and "chef" in err
