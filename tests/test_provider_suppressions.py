"""``providers sync-suppressions``: the providers' own lists into our suppression list.

Each provider's list endpoints are read against the fake provider on loopback (paged, with a
small page size), then the whole command runs end to end through the CLI with a real adapter,
on SQLite and PostgreSQL: subscribers leave the list with a ledger line, unknown addresses are
suppressed by hash, a second run changes nothing, and a provider error changes nothing either.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from digiweetjes.config import Secret, Settings
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderControl, FakeProviderServer, Faults
from digiweetjes.errors import PermanentProviderError
from digiweetjes.models import ConsentEvent, Subscriber, Suppression
from digiweetjes.providers.mailgun import MailgunProvider
from digiweetjes.providers.registry import HTTP_PROVIDERS
from digiweetjes.providers.suppressions import list_suppressions
from digiweetjes.subscribers.hashing import Hasher
from tests.cli_support import cli_env, run
from tests.sending_support import add_subscriber

KEY = "the-provider-key-1234"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DOMAIN = "mg.digiweetjes.example.be"

#: Per provider: (address, reason in the provider's words, extra seed fields, expected kind).
SEEDS: dict[str, list[tuple[str, str, dict[str, str], str]]] = {
    "postmark": [("bounce@voorbeeld.be", "HardBounce", {}, "bounce"),
                 ("complaint@voorbeeld.be", "SpamComplaint", {}, "complaint"),
                 ("unsub@voorbeeld.be", "ManualSuppression", {}, "unsubscribe"),
                 ("stranger@elders.be", "ManualSuppression", {}, "unsubscribe"),
                 ("byus@voorbeeld.be", "ManualSuppression", {"origin": "Customer"}, "other")],
    "sendgrid": [("bounce@voorbeeld.be", "bounces", {}, "bounce"),
                 ("complaint@voorbeeld.be", "spam_reports", {}, "complaint"),
                 ("unsub@voorbeeld.be", "asm", {}, "unsubscribe"),
                 ("stranger@elders.be", "unsubscribes", {}, "unsubscribe"),
                 ("byus@voorbeeld.be", "bounces", {"status": "4.2.2"}, "other")],
    "mailgun": [("bounce@voorbeeld.be", "bounces", {}, "bounce"),
                ("complaint@voorbeeld.be", "complaints", {}, "complaint"),
                ("unsub@voorbeeld.be", "unsubscribes", {}, "unsubscribe"),
                ("stranger@elders.be", "unsubscribes", {}, "unsubscribe")],
    "brevo": [("bounce@voorbeeld.be", "hardBounce", {}, "bounce"),
              ("complaint@voorbeeld.be", "contactFlaggedAsSpam", {}, "complaint"),
              ("unsub@voorbeeld.be", "unsubscribedViaEmail", {}, "unsubscribe"),
              ("stranger@elders.be", "unsubscribedViaMA", {}, "unsubscribe"),
              ("byus@voorbeeld.be", "adminBlocked", {}, "other")],
    "mailjet": [("unsub@voorbeeld.be", "excluded", {}, "unsubscribe"),
                ("stranger@elders.be", "excluded", {}, "unsubscribe")],
    "resend": [("bounce@voorbeeld.be", "bounce", {}, "bounce"),
               ("complaint@voorbeeld.be", "complaint", {}, "complaint"),
               ("stranger@elders.be", "bounce", {}, "bounce"),
               ("byus@voorbeeld.be", "manual", {}, "other")],
}
#: A reason (and its kind) to pad one list of each provider with more than one page.
FILLER = {"postmark": "HardBounce", "sendgrid": "bounces", "mailgun": "bounces",
          "brevo": "hardBounce", "mailjet": "excluded", "resend": "bounce"}
FILLER_KIND = {name: "unsubscribe" if name == "mailjet" else "bounce" for name in FILLER}
STATUS = {"bounce": "bounced", "complaint": "complained", "unsubscribe": "unsubscribed"}
PROVIDERS = sorted(SEEDS)


def _adapter(name: str, url: str):
    settings = Settings(provider=name, provider_options=_options(name, url))
    return HTTP_PROVIDERS[name](settings, None)


def _options(name: str, url: str) -> dict[str, object]:
    options: dict[str, object] = {"base_url": url}
    if name == "postmark":
        options["server_token"] = Secret(KEY)
    elif name == "mailjet":
        options.update(api_key=Secret("public"), secret_key=Secret(KEY))
    else:
        options["api_key"] = Secret(KEY)
    if name == "mailgun":
        options["domain"] = DOMAIN
    return options


def _seed(fake: FakeProviderServer, name: str, *, filler: int = 0) -> None:
    with FakeProviderControl(fake.url) as control:
        for email, reason, extra, _ in SEEDS[name]:
            control.add_suppression(name, email, reason, **extra)
        for i in range(filler):
            control.add_suppression(name, f"vol{i:02d}@elders.be", FILLER[name])


# -- reading the lists, page by page --


@pytest.mark.parametrize("name", PROVIDERS)
def test_each_provider_lists_every_page_and_maps_its_reasons(name: str) -> None:
    with FakeProviderServer(faults=Faults(accepted_keys=[KEY, f"public:{KEY}"])) as fake:
        _seed(fake, name, filler=7)
        FakeProviderControl(fake.url).add_suppression(
            "postmark", "other-stream@elders.be", "HardBounce", stream="outbound")
        with _adapter(name, fake.url) as provider:
            listing = list_suppressions(provider, page_size=2)
    kinds = {entry.email: entry.kind for entry in listing.entries}
    expected = {email: kind for email, _, _, kind in SEEDS[name]}
    expected.update({f"vol{i:02d}@elders.be": FILLER_KIND[name] for i in range(7)})
    assert kinds == expected
    assert len(listing.entries) == len(expected)  # no page read twice
    if name == "postmark":
        assert listing.requests == 1  # the dump has no paging (and one stream only)
    else:
        # At page size 2, the filler alone takes four pages of one list.
        assert listing.requests >= 4


def test_mailgun_refuses_a_next_page_on_another_host() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={
            "items": [{"address": "a@voorbeeld.be"}],
            "paging": {"next": "https://elsewhere.example/v3/x/bounces?page=next"}})

    provider = MailgunProvider(Secret(KEY), DOMAIN, base_url="https://api.mailgun.test",
                               transport=httpx.MockTransport(answer))
    with pytest.raises(PermanentProviderError, match="another host"):
        list_suppressions(provider)


def test_the_requests_carry_the_documented_paths_and_page_sizes() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.path}?{request.url.query.decode()}")
        assert request.headers["authorization"] == f"Bearer {KEY}"
        return httpx.Response(200, json=[])

    provider = HTTP_PROVIDERS["sendgrid"](
        Settings(provider="sendgrid", provider_options=_options("sendgrid", "https://sg.test")),
        httpx.MockTransport(answer))
    listing = list_suppressions(provider)
    assert listing.entries == ()
    assert seen == ["/v3/suppression/bounces?limit=500&offset=0",
                    "/v3/suppression/spam_reports?limit=500&offset=0",
                    "/v3/suppression/unsubscribes?limit=500&offset=0",
                    "/v3/asm/suppressions?"]


# -- the command, end to end --


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> dict[str, str]:
    return cli_env(monkeypatch, tmp_path, database_url)


@pytest.fixture
def database(env) -> Database:
    database = Database(env["DIGIWEETJES_DATABASE_URL"])
    database.upgrade()
    yield database
    database.dispose()


def _use(monkeypatch: pytest.MonkeyPatch, name: str, url: str) -> None:
    monkeypatch.setenv("DIGIWEETJES_PROVIDER", name)
    for option, value in _options(name, url).items():
        shown = value.reveal() if isinstance(value, Secret) else str(value)
        monkeypatch.setenv(f"DIGIWEETJES_PROVIDER_{option.upper()}", shown)


def _snapshot(database: Database, settings: Settings) -> dict[str, object]:
    with database.session() as session:
        return {
            "statuses": dict(session.execute(select(Subscriber.email, Subscriber.status)).all()),
            "events": session.scalar(select(func.count()).select_from(ConsentEvent)),
            "suppressed": {row.email_hash: row.reason
                           for row in session.scalars(select(Suppression))},
        }


def _members(database: Database, settings: Settings) -> None:
    for email in ("bounce@voorbeeld.be", "complaint@voorbeeld.be", "unsub@voorbeeld.be",
                  "byus@voorbeeld.be", "blijft@voorbeeld.be"):
        add_subscriber(database, settings, email, now=NOW)


@pytest.mark.parametrize("name", PROVIDERS)
def test_sync_through_the_cli_is_applied_once(name, env, database, monkeypatch,
                                              capsys) -> None:
    settings = Settings.from_env(os.environ)
    _members(database, settings)
    with FakeProviderServer(faults=Faults(accepted_keys=[KEY, f"public:{KEY}"])) as fake:
        _seed(fake, name)
        _use(monkeypatch, name, fake.url)
        code, out, err = run(capsys, "providers", "sync-suppressions")
        assert code == 0, err
        after = _snapshot(database, settings)
        code, again, err = run(capsys, "providers", "sync-suppressions")
        assert code == 0, err
        assert _snapshot(database, settings)["events"] == after["events"]
    applied = [(email, kind) for email, _, _, kind in SEEDS[name] if kind != "other"]
    statuses = after["statuses"]
    for email, kind in applied:
        if email in statuses:
            assert statuses[email] == STATUS[kind], email
    # Everyone else is still mailed; the one the provider's staff added is reported only.
    assert statuses["blijft@voorbeeld.be"] == "active"
    assert statuses["byus@voorbeeld.be"] == "active"
    known = [email for email, _ in applied if email in statuses]
    assert after["events"] == len(known)  # one ledger line each, none for strangers
    stranger = Hasher(settings).email("stranger@elders.be")
    assert stranger in after["suppressed"]
    assert len(after["suppressed"]) == len(applied)
    assert (f"{len(applied)} adressen nieuw op de blokkeerlijst; {len(known)} ingeschrevenen"
            in out)
    assert f"Niets nieuws: alle {len(applied)} adressen waren al bekend" in again
    if any(kind == "other" for *_, kind in SEEDS[name]):
        assert "niet overgenomen" in out


def test_an_address_on_several_lists_counts_once_under_its_strongest_kind(
        env, database, monkeypatch, capsys) -> None:
    settings = Settings.from_env(os.environ)
    add_subscriber(database, settings, "dubbel@voorbeeld.be", now=NOW)
    with FakeProviderServer() as fake, FakeProviderControl(fake.url) as control:
        for reason in ("unsubscribes", "bounces", "spam_reports"):
            control.add_suppression("sendgrid", "Dubbel@Voorbeeld.be", reason)
        _use(monkeypatch, "sendgrid", fake.url)
        assert run(capsys, "providers", "sync-suppressions")[0] == 0
        assert run(capsys, "providers", "sync-suppressions")[0] == 0
    after = _snapshot(database, settings)
    assert after["statuses"]["dubbel@voorbeeld.be"] == "complained"
    assert after["events"] == 1


def test_a_dry_run_reports_and_changes_nothing(env, database, monkeypatch, capsys) -> None:
    settings = Settings.from_env(os.environ)
    _members(database, settings)
    before = _snapshot(database, settings)
    with FakeProviderServer() as fake:
        _seed(fake, "brevo")
        _use(monkeypatch, "brevo", fake.url)
        code, out, err = run(capsys, "providers", "sync-suppressions", "--dry-run")
    assert code == 0, err
    assert "Proefdraai: 4 adressen zouden nieuw" in out
    assert _snapshot(database, settings) == before


@pytest.mark.parametrize("fault", ["key", "second-page", "network"])
def test_a_provider_error_leaves_the_database_unchanged(fault, env, database, monkeypatch,
                                                        capsys) -> None:
    settings = Settings.from_env(os.environ)
    _members(database, settings)
    before = _snapshot(database, settings)
    with FakeProviderServer(faults=Faults(accepted_keys=["another-key"] if fault == "key"
                                          else None)) as fake:
        _seed(fake, "brevo", filler=120)  # two pages of 100
        if fault == "second-page":
            FakeProviderControl(fake.url).set_faults(script=["ok", "5xx"])
        _use(monkeypatch, "brevo", fake.url)
        if fault == "network":
            monkeypatch.setenv("DIGIWEETJES_PROVIDER_BASE_URL", "http://127.0.0.1:9")
        code, out, err = run(capsys, "providers", "sync-suppressions")
    assert code == 1
    assert "Traceback" not in out + err and KEY not in out + err
    assert "Er is niets gewijzigd in de databank." in err
    expected = {"key": "brevo weigerde de sleutel (HTTP 401): controleer "
                       "DIGIWEETJES_PROVIDER_API_KEY",
                "second-page": "brevo heeft een storing (HTTP 500)",
                "network": "brevo is niet bereikbaar"}[fault]
    assert expected in err
    assert _snapshot(database, settings) == before


def test_the_outbox_has_nothing_to_sync(env, database, capsys) -> None:
    code, out, err = run(capsys, "providers", "sync-suppressions")
    assert code == 0, err
    assert "houdt geen eigen blokkeerlijst bij" in out
