"""``digiweetjes reconcile ISSUE``: Dutch output, exit codes as ``send``'s, settings checked."""

from __future__ import annotations

import pytest

from digiweetjes.cli import main
from digiweetjes.config import send_options
from digiweetjes.devtools.fake_provider import FakeProviderServer, Faults
from digiweetjes.errors import ConfigError
from tests.test_cli_sending import ISSUE, env  # noqa: F401  (the fixture)

TOKEN = "postmark-CLI-TEST-7c1d-must-not-leak"


def _postmark_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Send through the Postmark adapter to the fake at ``url``, one batch of 5 at a time (the
    ``env`` fixture has approved the issue already)."""
    for name, value in (("DIGIWEETJES_PROVIDER", "postmark"),
                        ("DIGIWEETJES_PROVIDER_SERVER_TOKEN", TOKEN),
                        ("DIGIWEETJES_PROVIDER_BASE_URL", url),
                        ("DIGIWEETJES_SEND_BATCH_SIZE", "5"),
                        ("DIGIWEETJES_SEND_CONCURRENCY", "1")):
        monkeypatch.setenv(name, value)


def test_too_recent_then_reconciled_in_dutch(env, monkeypatch, capsys) -> None:  # noqa: F811
    with FakeProviderServer(faults=Faults(script=["timeout_after"], hang_s=0.2)) as fake:
        _postmark_at(monkeypatch, fake.url)
        # The send looks its timed-out batch up at once: found, though the default settle
        # time would have kept a "not found" uncertain.
        assert main(["send", ISSUE, "--yes"]) == 0
        out = capsys.readouterr().out
        assert "Afgestemd met postmark: 5 onzekere berichten toch verstuurd" in out
        assert fake.state.deliveries()["total"] == 12
        # Nothing left to reconcile: a clean exit.
        assert main(["reconcile", ISSUE]) == 0
        out = capsys.readouterr().out
        assert "Afgestemd met postmark: 0 onzekere berichten bekeken." in out
        assert TOKEN not in out


def test_not_found_stays_uncertain_until_the_settle_time(env, monkeypatch,  # noqa: F811
                                                         capsys) -> None:
    with FakeProviderServer(faults=Faults(script=["timeout_before"], hang_s=0.2)) as fake:
        _postmark_at(monkeypatch, fake.url)
        # A request that never arrived, yet timed out: uncertain, and too recent to resend.
        assert main(["send", ISSUE, "--yes"]) == 3
        capsys.readouterr()
        assert main(["reconcile", ISSUE]) == 3
        captured = capsys.readouterr()
        assert "5 nog onzeker" in captured.out and "te recent om te beslissen" in captured.out
        assert "digiweetjes reconcile" in captured.err
        monkeypatch.setenv("DIGIWEETJES_SEND_RECONCILE_SETTLE_SECONDS", "0")
        assert main(["reconcile", ISSUE]) == 0
        out = capsys.readouterr().out
        assert "5 niet aangekomen: terug in de wachtrij" in out
        assert f"digiweetjes send {ISSUE}" in out
        assert main(["status", ISSUE]) == 0
        assert "\nGepauzeerd: 5 onzekere berichten" in capsys.readouterr().out
        assert main(["send", ISSUE, "--yes"]) == 0
        assert fake.state.deliveries()["total"] == 12
        assert fake.state.deliveries()["duplicate_count"] == 0


def test_an_issue_never_sent_has_nothing_to_reconcile(env, capsys) -> None:  # noqa: F811
    assert main(["reconcile", ISSUE]) == 1
    assert "werd nog niet naar de lijst verstuurd" in capsys.readouterr().err


def test_the_settle_time_may_be_zero_but_nothing_else_may() -> None:
    name = "DIGIWEETJES_SEND_RECONCILE_SETTLE_SECONDS"
    assert send_options({name: "0"}).reconcile_settle_seconds == 0
    assert send_options({}).reconcile_settle_seconds == 120
    with pytest.raises(ConfigError, match=name):
        send_options({name: "-1"})
    with pytest.raises(ConfigError, match="DIGIWEETJES_SEND_BRAKE_AFTER moet groter dan 0 zijn"):
        send_options({"DIGIWEETJES_SEND_BRAKE_AFTER": "0"})
