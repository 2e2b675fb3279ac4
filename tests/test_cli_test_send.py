"""``digiweetjes send ISSUE --to A --to B``: a test mail to a few addresses, end to end.

Through the CLI with a real adapter (settings from the environment) against the fake provider
on loopback: one message an address, each with its own List-Unsubscribe URL and links, on the
batch path a real send takes; the ledger untouched; a bad address refused before anything.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from digiweetjes.cli import main
from digiweetjes.config import PROJECT_ROOT
from digiweetjes.db import Database
from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.models import Campaign
from tests.providers_support import KEY, KEY2

ISSUE = "2026-12-05-overzicht-projectoproepen"
ENV_OPTIONS = {
    "brevo": {"API_KEY": KEY},
    "postmark": {"SERVER_TOKEN": KEY},
    "sendgrid": {"API_KEY": KEY},
    "mailgun": {"API_KEY": KEY, "DOMAIN": "mg.werkkracht10.be"},
    "mailjet": {"API_KEY": KEY, "SECRET_KEY": KEY2},
    "resend": {"API_KEY": KEY},
}
A, B = "redactie@voorbeeld.be", "tweede.lezer@voorbeeld.be"


@pytest.fixture
def fake():
    with FakeProviderServer(faults=Faults(keep_bodies=True)) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in [k for k in os.environ if k.startswith("DIGIWEETJES_")]:
        monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'subscribers.db'}"
    for name, value in {
        "DIGIWEETJES_ROOT": str(tmp_path), "DIGIWEETJES_DATABASE_URL": url,
        "DIGIWEETJES_ISSUES_DIR": str(PROJECT_ROOT / "issues"),
        "DIGIWEETJES_TEMPLATES_DIR": str(PROJECT_ROOT / "templates"),
        "DIGIWEETJES_SECRET_KEY": "cli-test-secret-key-abcdefghijkl",
        "DIGIWEETJES_BASE_URL": "https://digiweetjes.example.be",
    }.items():
        monkeypatch.setenv(name, value)
    db = Database(url)
    db.upgrade()
    db.dispose()
    return url


def _use(monkeypatch: pytest.MonkeyPatch, name: str, url: str) -> None:
    monkeypatch.setenv("DIGIWEETJES_PROVIDER", name)
    monkeypatch.setenv("DIGIWEETJES_PROVIDER_BASE_URL", url)
    for key, value in ENV_OPTIONS[name].items():
        monkeypatch.setenv(f"DIGIWEETJES_PROVIDER_{key}", value)


def _campaigns(url: str) -> int:
    db = Database(url)
    try:
        with db.session() as session:
            return session.scalar(select(func.count()).select_from(Campaign)) or 0
    finally:
        db.dispose()


@pytest.mark.parametrize("name", sorted(ENV_OPTIONS))
def test_two_addresses_get_one_message_each_with_their_own_links(
        env: str, fake: FakeProviderServer, monkeypatch, capsys, name: str) -> None:
    _use(monkeypatch, name, fake.url)
    assert main(["send", ISSUE, "--to", A, "--to", B]) == 0
    out = capsys.readouterr().out
    assert f"verstuurd naar {A} via {name}" in out and f"verstuurd naar {B} via {name}" in out
    assert _campaigns(env) == 0
    summary = fake.state.deliveries()
    assert summary["total"] == 2 and summary["distinct"] == 2
    found = {}
    for address in (A, B):
        [message] = fake.state.recent(name, address, 10)
        assert message["subject"].startswith("[TEST] ")
        unsubscribe = re.fullmatch(r"<(https://[^>]+)>, <mailto:[^>]+>",
                                   message["headers"]["List-Unsubscribe"]).group(1)
        assert message["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe.startswith("https://digiweetjes.example.be/uitschrijven/")
        assert unsubscribe in message["text"] and unsubscribe in message["html"]
        preferences = re.search(r"https://digiweetjes\.example\.be/voorkeuren/\S+",
                                message["text"]).group(0)
        found[address] = (unsubscribe, preferences)
    assert found[A][0] != found[B][0] and found[A][1] != found[B][1]


def test_comma_separated_addresses_count_too(env: str, fake: FakeProviderServer,
                                              monkeypatch, capsys) -> None:
    _use(monkeypatch, "postmark", fake.url)
    assert main(["send", ISSUE, "--to", f"{A}, {B}"]) == 0
    assert fake.state.deliveries()["distinct"] == 2


@pytest.mark.parametrize("addresses, named", [
    ([A, "geen-adres"], "'geen-adres' is geen geldig e-mailadres"),
    ([A, A.upper()], "staat er twee keer in"),
    ([f"l{i}@voorbeeld.be" for i in range(6)], "hoogstens 5 testadressen"),
])
def test_a_bad_address_list_is_refused_in_dutch_before_anything_is_sent(
        env: str, fake: FakeProviderServer, monkeypatch, capsys, addresses: list[str],
        named: str) -> None:
    _use(monkeypatch, "brevo", fake.url)
    argv = ["send", ISSUE]
    for address in addresses:
        argv += ["--to", address]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Fout: --to: ") and named in err and "er werd niets verstuurd" in err
    assert "Traceback" not in err
    assert fake.state.deliveries()["requests"] == {} and _campaigns(env) == 0
