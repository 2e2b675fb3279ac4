"""Links name an address, not a database row: finding the subscriber of a token, on SQLite and
PostgreSQL (the ``db`` fixture), for new tokens and for the first format's."""

from __future__ import annotations

import base64
import re
from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.orm import Session

from digiweetjes.clock import FixedClock
from digiweetjes.config import Settings
from digiweetjes.db import Database
from digiweetjes.errors import TokenError
from digiweetjes.models import (
    ConsentEvent,
    Source,
    Subscriber,
    Suppression,
    SuppressionReason,
)
from digiweetjes.providers.outbox import OutboxProvider
from digiweetjes.sending import service
from digiweetjes.sending.engine import SendEngine
from digiweetjes.sending.options import SendOptions
from digiweetjes.subscribers import (
    confirm,
    driver,
    erase,
    subscribe,
    subscriber_for_token,
    unsubscribe,
    update_preferences,
)
from digiweetjes.subscribers.consent import upsert_suppression
from digiweetjes.subscribers.hashing import Hasher
from digiweetjes.subscribers.lookup import by_hash_prefix
from digiweetjes.subscribers.tokens import HASH_PREFIX, Purpose, make_token, subscriber_links
from tests.helpers_subscribers import (
    OLD_ADDRESS,
    OLD_ID,
    OLD_TOKENS,
    RecordingProvider,
    link_token,
)
from tests.sending_support import freeze, sample_issue

# Ids no token may show: distinctive enough that a digit run of a timestamp or hash cannot
# pass for one by chance.
IDS = (987654, 987655, 31337421)


def _payload(token: str) -> str:
    """What anyone can read of a token: the base64 before the first "."."""
    value = token.split(".", 1)[0]
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


def _person(db: Database, settings: Settings, clock: FixedClock, email: str, sid: int, *,
            status: str = "active", email_hash: str | None = None) -> None:
    """A subscriber row with a chosen id (bypassing the flows, which cannot choose one)."""
    key = email.lower()
    with db.session() as session:
        session.execute(insert(Subscriber).values(
            id=sid, email=email, email_key=key,
            email_hash=email_hash or Hasher(settings).email(key), topics=[],
            language="nl-BE", status=status, source="admin", created_at=clock.now(),
            updated_at=clock.now()))
        if db.url.startswith("postgresql"):  # the next generated id follows the chosen ones
            session.execute(text("SELECT setval(pg_get_serial_sequence('subscribers', 'id'), "
                                 "(SELECT max(id) FROM subscribers))"))


def _hash(settings: Settings, email: str) -> str:
    return Hasher(settings).email(email.lower())


def _gone(db: Database, settings: Settings, clock: FixedClock, token: str,
          purpose: Purpose = Purpose.UNSUBSCRIBE) -> str:
    with pytest.raises(TokenError) as caught, db.session() as session:
        subscriber_for_token(session, clock, settings, token, purpose)
    return caught.value.reason


@pytest.fixture
def people(db: Database, db_settings: Settings, clock: FixedClock) -> Database:
    for sid, email in zip(IDS, ("a@voorbeeld.be", "B@Voorbeeld.be", "c@voorbeeld.be"),
                          strict=True):
        _person(db, db_settings, clock, email, sid)
    return db


def test_a_new_token_shows_no_id_and_finds_its_subscriber(people: Database,
                                                          db_settings: Settings,
                                                          clock: FixedClock) -> None:
    for sid, email in zip(IDS, ("a@voorbeeld.be", "b@voorbeeld.be", "c@voorbeeld.be"),
                          strict=True):
        email_hash = _hash(db_settings, email)
        for purpose in Purpose:
            token = make_token(db_settings, clock, purpose, email_hash)
            readable = _payload(token)
            assert str(sid) not in readable and str(sid) not in token
            assert readable == (f'["{purpose.value}","{email_hash[:HASH_PREFIX]}",'
                                f'{int(clock.now().timestamp())}]')
            with people.session() as session:
                assert subscriber_for_token(session, clock, db_settings, token,
                                            purpose).id == sid


def test_the_confirmation_and_service_mails_links_show_no_id(db: Database,
                                                             db_settings: Settings,
                                                             clock: FixedClock) -> None:
    _person(db, db_settings, clock, "ouder@voorbeeld.be", IDS[0] - 1, status="erased",
            email_hash="f" * 64)
    provider = RecordingProvider()
    with db.session() as session:
        subscribe(session, provider, clock, db_settings, email="nieuw@voorbeeld.be")
    token = link_token(provider.sent[-1].text, "bevestigen")
    assert str(IDS[0]) not in _payload(token)
    with db.session() as session:
        subscriber = confirm(session, clock, db_settings, token)
        assert subscriber.id == IDS[0]  # the id the link would have shown
    urls = subscriber_links(db_settings, clock, subscriber.email_hash)
    for url in urls.values():
        assert str(IDS[0]) not in _payload(url.rsplit("/", 1)[1])
    with db.session() as session:
        changed = update_preferences(session, clock, db_settings,
                                     urls["preferences_url"].rsplit("/", 1)[1], name="Nieuw")
        assert (changed.id, changed.name) == (IDS[0], "Nieuw")


def test_tokens_of_the_first_format_still_work(db: Database, db_settings: Settings,
                                               clock: FixedClock) -> None:
    _person(db, db_settings, clock, OLD_ADDRESS, OLD_ID)
    for purpose, token in OLD_TOKENS.items():
        with db.session() as session:
            assert subscriber_for_token(session, clock, db_settings, token,
                                        purpose).id == OLD_ID
    with db.session() as session:
        update_preferences(session, clock, db_settings, OLD_TOKENS[Purpose.PREFERENCES],
                           name="Oud Lid")
    clock.advance(days=3650)  # unsubscribe links never expire
    with db.session() as session:
        assert unsubscribe(session, clock, db_settings,
                           OLD_TOKENS[Purpose.UNSUBSCRIBE]).status == "unsubscribed"
    with db.session() as session:
        assert session.get(Subscriber, OLD_ID).name == "Oud Lid"


def test_an_old_token_names_its_row_and_checks_the_address(db: Database,
                                                           db_settings: Settings,
                                                           clock: FixedClock) -> None:
    # The address of the old token at another id: the id decides, and it names nobody.
    _person(db, db_settings, clock, OLD_ADDRESS, OLD_ID + 1)
    assert _gone(db, db_settings, clock, OLD_TOKENS[Purpose.UNSUBSCRIBE]) == "gone"
    # Another address at the old token's id: the address check refuses it.
    _person(db, db_settings, clock, "ander@voorbeeld.be", OLD_ID)
    assert _gone(db, db_settings, clock, OLD_TOKENS[Purpose.PREFERENCES],
                 Purpose.PREFERENCES) == "gone"


def test_an_erased_subscribers_token_is_gone_even_when_the_address_returns(
        db: Database, db_settings: Settings, clock: FixedClock) -> None:
    _person(db, db_settings, clock, OLD_ADDRESS, OLD_ID)
    email_hash = _hash(db_settings, OLD_ADDRESS)
    new = make_token(db_settings, clock, Purpose.UNSUBSCRIBE, email_hash)
    clock.advance(days=1)
    with db.session() as session:
        erase(session, clock, db_settings, OLD_ADDRESS)
    for token in (new, OLD_TOKENS[Purpose.UNSUBSCRIBE]):
        assert _gone(db, db_settings, clock, token) == "gone"
    # The same address subscribes afresh: a new row with the same address hash. Links from
    # before the erasure still name nobody; the new subscription's own links work.
    clock.advance(days=1)
    provider = RecordingProvider()
    with db.session() as session:
        subscribe(session, provider, clock, db_settings, email=OLD_ADDRESS)
    with db.session() as session:
        again = confirm(session, clock, db_settings,
                        link_token(provider.sent[-1].text, "bevestigen"))
        assert again.id != OLD_ID and again.email_hash == email_hash
    for token in (new, OLD_TOKENS[Purpose.UNSUBSCRIBE]):
        assert _gone(db, db_settings, clock, token) == "gone"
    fresh = make_token(db_settings, clock, Purpose.UNSUBSCRIBE, email_hash)
    with db.session() as session:
        assert unsubscribe(session, clock, db_settings, fresh).id == again.id


def test_a_changed_address_makes_the_token_gone(people: Database, db_settings: Settings,
                                                clock: FixedClock) -> None:
    token = make_token(db_settings, clock, Purpose.PREFERENCES, _hash(db_settings,
                                                                      "a@voorbeeld.be"))
    with people.session() as session:
        session.execute(update(Subscriber).where(Subscriber.id == IDS[0]).values(
            email="a2@voorbeeld.be", email_key="a2@voorbeeld.be",
            email_hash=_hash(db_settings, "a2@voorbeeld.be")))
    assert _gone(people, db_settings, clock, token, Purpose.PREFERENCES) == "gone"


def test_two_subscribers_sharing_the_prefix_are_never_guessed_between(
        db: Database, db_settings: Settings, clock: FixedClock) -> None:
    prefix = ("0123456789abcdef" * 4)[:HASH_PREFIX]
    rest = 64 - HASH_PREFIX
    _person(db, db_settings, clock, "een@voorbeeld.be", IDS[0], email_hash=prefix + "0" * rest)
    token = make_token(db_settings, clock, Purpose.UNSUBSCRIBE, prefix + "0" * rest)
    with db.session() as session:
        assert subscriber_for_token(session, clock, db_settings, token,
                                    Purpose.UNSUBSCRIBE).id == IDS[0]
    # A 128-bit coincidence (or a bug): the link names nobody rather than one of the two.
    _person(db, db_settings, clock, "twee@voorbeeld.be", IDS[1], email_hash=prefix + "f" * rest)
    assert _gone(db, db_settings, clock, token) == "gone"
    with db.session() as session:
        assert {s.status for s in session.scalars(select(Subscriber))} == {"active"}


def test_the_prefix_range_finds_exactly_the_hashes_that_start_with_it(
        db: Database, db_settings: Settings, clock: FixedClock) -> None:
    prefix, rest, head = "7" * HASH_PREFIX, 64 - HASH_PREFIX, "7" * (HASH_PREFIX - 1)
    near = {  # around both ends of the range, in byte order
        IDS[0]: head + "6" + "f" * rest,          # just below
        IDS[1]: prefix + "0" * rest,              # the lowest inside
        IDS[2]: prefix + "f" * rest,              # the highest inside
        IDS[2] + 1: head + "8" + "0" * rest,      # just above
        IDS[2] + 2: head + "a" + "0" * rest,      # a letter after the digits
    }
    for sid, email_hash in near.items():
        _person(db, db_settings, clock, f"p{sid}@voorbeeld.be", sid, email_hash=email_hash)
    with db.session() as session:
        found = {s.id for s in session.scalars(by_hash_prefix(prefix).limit(None))}
    assert found == {IDS[1], IDS[2]}


def _plan(session: Session, db: Database, prefix: str) -> str:
    """The query plan of the prefix lookup, as text."""
    statement = by_hash_prefix(prefix)
    compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    if db.url.startswith("postgresql"):
        # A table this small is cheaper to read whole; forbidding that shows whether the
        # predicate can use the index at all (LIKE under a non-C collation could not).
        session.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
    return "\n".join(str(row[-1]) for row in session.execute(
        text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_the_prefix_lookup_searches_the_index(people: Database, db_settings: Settings) -> None:
    with people.session() as session:
        plan = _plan(session, people, "ab" * (HASH_PREFIX // 2))
        assert "ix_subscribers_email_hash" in plan, plan
        if not people.url.startswith("postgresql"):
            assert re.search(r"SEARCH subscribers USING INDEX ix_subscribers_email_hash "
                             r"\(email_hash>\? AND email_hash<\?\)", plan), plan
        # The check can fail: a filter on a column without an index is a full scan.
        control = select(Subscriber).where(Subscriber.name == "x").compile(
            session.get_bind(), compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN" if people.url.startswith("postgresql") else "EXPLAIN QUERY PLAN"
        rows = session.execute(text(f"{explain} {control}")).all()
        assert "ix_subscribers_email_hash" not in " ".join(str(r[-1]) for r in rows)


def test_a_test_mails_links_name_nobody_not_even_a_subscribed_tester(
        people: Database, db_settings: Settings, clock: FixedClock) -> None:
    provider = RecordingProvider()
    compiled = sample_issue(db_settings)
    service.test_send_many(provider, compiled, db_settings, ["a@voorbeeld.be"], clock=clock)
    [mail] = provider.sent
    token = mail.recipient.unsubscribe_url.rsplit("/", 1)[1]
    assert _gone(people, db_settings, clock, token) == "gone"
    with people.session() as session:
        assert session.get(Subscriber, IDS[0]).status == "active"


def _links(message) -> list[str]:
    """The tokens of the unsubscribe and preferences links in an .eml: headers and both parts."""
    texts = [message["List-Unsubscribe"]]
    texts += [part.get_content() for part in message.walk()
              if part.get_content_type() in ("text/plain", "text/html")]
    return re.findall(r"/(?:uitschrijven|voorkeuren)/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)",
                      "\n".join(texts))


def test_a_real_sends_links_in_the_outbox_carry_no_id(people: Database, db_settings: Settings,
                                                      clock: FixedClock, tmp_path) -> None:
    compiled = sample_issue(db_settings)
    provider = OutboxProvider(tmp_path / "outbox", clock=clock)
    campaign = freeze(people, compiled, provider.name, clock.now())
    summary = SendEngine(people, provider, compiled, db_settings, clock,
                         SendOptions(concurrency=1)).run(campaign)
    assert summary.done and summary.sent == len(IDS)
    files = sorted((tmp_path / "outbox").rglob("*.eml"))
    assert len(files) == len(IDS)
    named = {}
    for path in files:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        tokens = _links(message)
        assert len(tokens) >= 3, path  # the header, and both links in each part
        for token in tokens:
            readable = _payload(token)
            assert not any(str(sid) in readable for sid in IDS), readable
            purpose = Purpose.UNSUBSCRIBE if readable.startswith('["unsub') \
                else Purpose.PREFERENCES
            with people.session() as session:
                named.setdefault(message["To"], set()).add(
                    subscriber_for_token(session, clock, db_settings, token, purpose).id)
    # Each recipient's links name that recipient, and nobody else.
    assert sorted(named.values(), key=min) == [{sid} for sid in IDS]


# ---------------------------------------------------------------- the one-click quick path


def _statements(db: Database, work) -> list[str]:  # type: ignore[no-untyped-def]
    """The SQL ``work(session)`` sends (BEGIN and COMMIT left out), in order."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    # The one-click statements go straight to the driver's cursor (``subscribers.driver``):
    # record those too, in the same list.
    connections = driver._connections

    class RecordingCursor:
        def __init__(self, cursor) -> None:  # type: ignore[no-untyped-def]
            self._cursor = cursor

        def execute(self, sql, params):  # type: ignore[no-untyped-def]
            record(None, None, sql)
            return self._cursor.execute(sql, params)

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(self._cursor, name)

    class RecordingConnection:
        def __init__(self, connection) -> None:  # type: ignore[no-untyped-def]
            self._connection = connection

        def cursor(self) -> RecordingCursor:
            return RecordingCursor(self._connection.cursor())

    def recording(executor):  # type: ignore[no-untyped-def]
        connection, dialect = connections(executor)
        return RecordingConnection(connection), dialect

    event.listen(db.engine, "before_cursor_execute", record)
    driver._connections = recording
    try:
        with db.session(write=True) as session:
            work(session)
    finally:
        driver._connections = connections
        event.remove(db.engine, "before_cursor_execute", record)
    return [s for s in seen if not s.upper().startswith(("BEGIN", "COMMIT"))]


def test_one_click_on_a_row_older_than_its_token_skips_the_erasure_query(
        people: Database, db_settings: Settings, clock: FixedClock) -> None:
    clock.advance(minutes=5)  # the link was issued after the row was created
    token = make_token(db_settings, clock, Purpose.UNSUBSCRIBE, _hash(db_settings,
                                                                       "a@voorbeeld.be"))
    clock.advance(days=2)
    found = []
    sql = _statements(people, lambda session: found.append(
        unsubscribe(session, clock, db_settings, token, ip="192.0.2.7")))
    assert (found[0].id, found[0].status) == (IDS[0], "unsubscribed")
    assert [s.split()[0] for s in sql] == ["SELECT", "UPDATE", "INSERT", "INSERT"], sql
    assert "consent_events" not in sql[0] and "ON CONFLICT" in sql[3], sql
    with people.session() as session:
        row = session.get(Subscriber, IDS[0])
        assert (row.status, row.unsubscribed_at, row.updated_at) == (
            "unsubscribed", clock.now(), clock.now())
        events = session.scalars(select(ConsentEvent)).all()
        assert [(e.event, e.email, e.subscriber_id, e.source) for e in events] == [
            ("unsubscribed", "a@voorbeeld.be", IDS[0], "form")]
        assert events[0].ip_hash == Hasher(db_settings).ip("192.0.2.7")
        assert events[0].email_hash == _hash(db_settings, "a@voorbeeld.be")
        suppression = session.get(Suppression, _hash(db_settings, "a@voorbeeld.be"))
        assert (suppression.reason, suppression.source) == ("unsubscribed", "form")
    # Again: one SELECT, nothing written, the same answer.
    sql = _statements(people, lambda session: found.append(
        unsubscribe(session, clock, db_settings, token)))
    assert [s.split()[0] for s in sql] == ["SELECT"] and found[1].status == "unsubscribed"


def test_a_row_as_new_as_its_token_is_checked_against_the_ledger(
        people: Database, db_settings: Settings, clock: FixedClock) -> None:
    # Same second: the row might be a re-subscription after an erasure in that second.
    token = make_token(db_settings, clock, Purpose.UNSUBSCRIBE, _hash(db_settings,
                                                                       "b@voorbeeld.be"))
    sql = _statements(people, lambda session: unsubscribe(session, clock, db_settings, token))
    assert any("consent_events" in s and s.startswith("SELECT") for s in sql), sql


def test_one_click_leaves_a_bounced_subscriber_as_it_is(
        people: Database, db_settings: Settings, clock: FixedClock) -> None:
    with people.session() as session:
        session.execute(update(Subscriber).where(Subscriber.id == IDS[2]).values(
            status="bounced"))
    clock.advance(minutes=1)
    token = make_token(db_settings, clock, Purpose.UNSUBSCRIBE, _hash(db_settings,
                                                                       "c@voorbeeld.be"))
    with people.session(write=True) as session:
        assert unsubscribe(session, clock, db_settings, token).status == "bounced"
    with people.session() as session:
        assert session.get(Subscriber, IDS[2]).status == "bounced"
        assert session.scalars(select(ConsentEvent)).all() == []
        assert session.scalars(select(Suppression)).all() == []


def test_the_suppression_upsert_keeps_what_suppress_keeps(
        db: Database, db_settings: Settings, clock: FixedClock) -> None:
    email_hash, first = "ab" * 32, clock.now()
    with db.session() as session:
        upsert_suppression(session, email_hash, SuppressionReason.BOUNCED, Source.WEBHOOK, first)
    clock.advance(hours=1)
    with db.session() as session:  # the same reason: the row stays as it was
        upsert_suppression(session, email_hash, SuppressionReason.BOUNCED, Source.FORM,
                           clock.now())
    with db.session() as session:
        row = session.get(Suppression, email_hash)
        assert (row.reason, row.source, row.created_at, row.updated_at) == (
            "bounced", "webhook", first, first)
    with db.session() as session:  # another reason: the latest, as ``suppress`` does
        upsert_suppression(session, email_hash, SuppressionReason.UNSUBSCRIBED, Source.FORM,
                           clock.now())
    with db.session() as session:
        row = session.get(Suppression, email_hash)
        assert (row.reason, row.source, row.created_at, row.updated_at) == (
            "unsubscribed", "form", first, clock.now())
        assert len(session.scalars(select(Suppression)).all()) == 1
