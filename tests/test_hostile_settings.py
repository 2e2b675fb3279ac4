"""Hostile settings: every malformed ``DIGIWEETJES_*`` value is one line naming the variable, a
non-zero exit, and nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digiweetjes.config import Settings
from digiweetjes.errors import ConfigError
from tests.hostile_support import base_env, run, snapshot, use_env

LONG = "9" * 5000
LONG_SHOWN = "'" + "9" * 40 + "…'"
TOO_BIG = "(ten hoogste 1.000.000.000; laat de variabele weg voor de standaardwaarde)"
BASE_URL_HINT = "DIGIWEETJES_BASE_URL moet een webadres zijn zoals " \
                "https://digiweetjes.werkkracht10.be (nu: "

CASES = [
    pytest.param("DIGIWEETJES_TIMEZONE", "Mars/Olympus",
                 "DIGIWEETJES_TIMEZONE: onbekende tijdzone 'Mars/Olympus'; gebruik een naam als "
                 "Europe/Brussels", id="timezone-unknown"),
    pytest.param("DIGIWEETJES_TIMEZONE", "../../etc/passwd",
                 "DIGIWEETJES_TIMEZONE: onbekende tijdzone '../../etc/passwd'; gebruik een naam "
                 "als Europe/Brussels", id="timezone-path"),
    pytest.param("DIGIWEETJES_TIMEZONE", "a" * 5000,
                 "DIGIWEETJES_TIMEZONE: onbekende tijdzone '" + "a" * 40 + "…'; gebruik een "
                 "naam als Europe/Brussels", id="timezone-5000-chars"),
    pytest.param("DIGIWEETJES_TIMEZONE", "Europe/Brussels ",
                 "DIGIWEETJES_TIMEZONE: onbekende tijdzone 'Europe/Brussels '; gebruik een naam "
                 "als Europe/Brussels", id="timezone-trailing-space"),
    pytest.param("DIGIWEETJES_BASE_URL", "javascript:alert(1)",
                 BASE_URL_HINT + "'javascript:alert(1)')", id="base-url-javascript"),
    pytest.param("DIGIWEETJES_BASE_URL", "digiweetjes.example.be",
                 BASE_URL_HINT + "'digiweetjes.example.be')", id="base-url-no-scheme"),
    pytest.param("DIGIWEETJES_BASE_URL", "https://",
                 BASE_URL_HINT + "'https://')", id="base-url-no-host"),
    pytest.param("DIGIWEETJES_BASE_URL", "https://[x",
                 BASE_URL_HINT + "'https://[x')", id="base-url-unparseable"),
    pytest.param("DIGIWEETJES_BASE_URL", "https://x.be/a b",
                 BASE_URL_HINT + "'https://x.be/a b')", id="base-url-space"),
    pytest.param("DIGIWEETJES_SEND_CONCURRENCY", "vier",
                 "DIGIWEETJES_SEND_CONCURRENCY is geen getal: 'vier'", id="send-not-a-number"),
    pytest.param("DIGIWEETJES_SEND_CONCURRENCY", LONG,
                 f"DIGIWEETJES_SEND_CONCURRENCY is geen getal: {LONG_SHOWN}",
                 id="send-5000-digits"),
    pytest.param("DIGIWEETJES_SEND_BRAKE_AFTER", "-1",
                 "DIGIWEETJES_SEND_BRAKE_AFTER moet groter dan 0 zijn (nu: '-1')",
                 id="send-negative"),
    pytest.param("DIGIWEETJES_SEND_STALL_SECONDS", "nan",
                 "DIGIWEETJES_SEND_STALL_SECONDS is geen eindig getal: 'nan'", id="send-nan"),
    pytest.param("DIGIWEETJES_SEND_REQUESTS_PER_SECOND", "inf",
                 "DIGIWEETJES_SEND_REQUESTS_PER_SECOND is geen eindig getal: 'inf'",
                 id="send-inf"),
    pytest.param("DIGIWEETJES_SEND_PROCESSES", "10000000000",
                 f"DIGIWEETJES_SEND_PROCESSES is te groot: '10000000000' {TOO_BIG}",
                 id="send-huge"),
    pytest.param("DIGIWEETJES_SEND_STALL_SECONDS", "1e300",
                 f"DIGIWEETJES_SEND_STALL_SECONDS is te groot: '1e300' {TOO_BIG}",
                 id="send-huge-float"),
    pytest.param("DIGIWEETJES_DATABASE_URL", "not a url",
                 "DIGIWEETJES_DATABASE_URL is geen databankadres: Could not parse SQLAlchemy "
                 "URL from given URL string", id="database-url-malformed"),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """An initialised project below tmp_path."""
    use_env(monkeypatch, base_env(tmp_path))
    assert run(capsys, "init").code == 0
    return tmp_path


@pytest.mark.parametrize("command", [
    pytest.param(("subscribers", "list"), id="list"),
    pytest.param(("subscribers", "export", "out.csv"), id="export"),
])
@pytest.mark.parametrize(("variable", "value", "message"), CASES)
def test_malformed_setting_is_one_line_naming_the_variable(
        project: Path, monkeypatch: pytest.MonkeyPatch, capsys, command: tuple[str, ...],
        variable: str, value: str, message: str) -> None:
    before = snapshot(project)
    monkeypatch.chdir(project)
    monkeypatch.setenv(variable, value)
    run(capsys, *command).assert_clean_error(78, message)
    assert snapshot(project) == before


def test_an_empty_timezone_means_the_default(project: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DIGIWEETJES_TIMEZONE", "")
    assert run(capsys, "subscribers", "list").code == 0


def test_an_unreadable_local_secret_names_the_file(tmp_path: Path) -> None:
    (tmp_path / ".digiweetjes-secret").write_bytes(b"\xff\xfe\x00not utf-8")
    with pytest.raises(ConfigError, match=r"\.digiweetjes-secret: het lokale geheim kan niet"):
        Settings.from_env({"DIGIWEETJES_ROOT": str(tmp_path)}, allow_local_secret=True)


def test_a_new_local_secret_is_private_from_the_start(tmp_path: Path) -> None:
    Settings.from_env({"DIGIWEETJES_ROOT": str(tmp_path)}, allow_local_secret=True)
    secret = tmp_path / ".digiweetjes-secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [secret.name]  # no temporary file left


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(["DIGIWEETJES_TIMEZONE", "DIGIWEETJES_BASE_URL",
                             "DIGIWEETJES_SEND_CONCURRENCY", "DIGIWEETJES_SEND_STALL_SECONDS"]),
       value=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                     max_size=60))
def test_any_value_gives_settings_or_a_config_error(name: str, value: str) -> None:
    try:
        Settings.from_env({name: value})
    except ConfigError as exc:
        assert name in str(exc)
